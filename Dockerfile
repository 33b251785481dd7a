# syntax=docker/dockerfile:1
# Build: a static binary (no cgo), with the module cache and build cache
# mounted so rebuilds are fast.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/shortlinks ./cmd/shortlinks

# Run: distroless static, as an unprivileged user. Templates, migrations and
# static files are embedded in the binary, so it is the only file needed.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/shortlinks /shortlinks
USER nonroot:nonroot
ENV ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/shortlinks"]
CMD ["serve"]
