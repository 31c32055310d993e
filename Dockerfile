# Yatri server image. Build: docker build -t yatri .  Run: docker run -p 8080:8080 -e SECRET_KEY=... yatri
FROM node:20-bookworm-slim AS vendor
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 YATRI_ENV=production
RUN useradd --create-home --uid 10001 yatri
WORKDIR /app
COPY setup.cfg pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir -e .
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
COPY --from=vendor /build/node_modules/htmx.org/dist/htmx.min.js ./static/vendor/htmx.min.js
RUN mkdir -p var && chown yatri:yatri var
USER yatri
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz')"
# Migrations run on start, so a new image upgrades its database before serving.
CMD ["sh", "-c", "yatri migrate && exec yatri serve --host 0.0.0.0 --port 8080"]
