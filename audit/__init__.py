"""The hash-chained audit log: record an event, query entries, verify the chain (no HTTP).

Below the domain rooms so that rights, retention and the API can all write to it.
"""
