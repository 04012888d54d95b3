FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY core core
COPY ingest ingest
COPY workers workers
COPY alerts alerts
COPY sweatsync sweatsync
RUN pip install --no-cache-dir . && useradd --create-home sweatsync && mkdir -p /data && chown sweatsync /data
USER sweatsync
ENV SWEATSYNC_VAR_DIR=/data
EXPOSE 8000
CMD ["sweatsync", "api", "--host", "0.0.0.0", "--port", "8000"]
