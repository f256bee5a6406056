# Slim production image: the app, its Python dependencies, espeak-ng/opus-tools for the narration job.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY service ./service
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends espeak-ng opus-tools fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 app
COPY --from=build /install /usr/local
WORKDIR /app
COPY service ./service
COPY migrations ./migrations
COPY assets ./assets
USER app
ENV PYTHONUNBUFFERED=1 ENV=production HOST=0.0.0.0 PORT=8080
EXPOSE 8080
CMD ["python", "-m", "service", "serve"]
