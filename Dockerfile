# DUCK-E Guard: multi-stage image (Maven build, then a JRE-only runtime running as a non-root user).
# Build: docker build -t duck-e .     Run a three-node cluster: docker compose up (see docker-compose.yml)

# --- build stage ---
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
# dependencies first, so source changes do not re-download them
COPY pom.xml ./
RUN mvn -B -q dependency:go-offline -DskipTests || true
COPY src ./src
COPY migrations ./migrations
COPY config.yml ./
RUN mvn -B -q package -DskipTests

# --- runtime stage ---
FROM eclipse-temurin:17-jre
# curl for the health check only
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 ducke \
    && useradd --system --uid 10001 --gid ducke --home-dir /app --shell /usr/sbin/nologin ducke
WORKDIR /app
COPY --from=build /src/target/duck-e.jar /app/duck-e.jar
COPY config.yml /app/config.yml
COPY migrations/ /app/migrations/
# /app/data holds the charge journal (docs/cluster.md) and the default H2 audit file when DATABASE_URL is not set
RUN mkdir -p /app/data && chown -R ducke:ducke /app/data
ENV DUCKE_DATA_DIR=/app/data \
    DUCKE_MIGRATIONS_DIR=/app/migrations
USER ducke
# application, admin (local-only unless DUCKE_ADMIN_BIND_HOST is set, as docker-compose.yml does), Hazelcast
EXPOSE 8000 8081 5701
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:8000/status || exit 1
# exec form: SIGTERM reaches the JVM, so the node leaves the cluster gracefully
CMD ["java", "-jar", "duck-e.jar", "server", "config.yml"]
