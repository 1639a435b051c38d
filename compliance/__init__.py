"""Compliance documents generated from the live system: the privacy notices of the
call-recording and customer registers and the Art. 30 record of processing."""
