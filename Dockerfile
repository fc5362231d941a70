# syntax=docker/dockerfile:1
# hrsync in a container: a static binary (CGO off) on a distroless base, run as a non-root user.
#
#   docker build -t hrsync --build-arg VERSION=0.3.0 --build-arg COMMIT=$(git rev-parse HEAD) \
#     --build-arg DATE=$(date -u +%FT%TZ) .
#   docker run --rm hrsync version
#
# The image holds the binary only: mount the config, the mapping and the HR export, and a WRITABLE folder for
# what hrsync writes (plans, journals, reports, and the sandbox tenant's state file, target.state):
#
#   docker run --rm --user "$(id -u):$(id -g)" -v "$PWD:/work" hrsync plan -c examples/quickstart/hrsync.yaml --out plan.json
#
# /work is the working folder; without --user hrsync runs as uid 65532 ("nonroot"), which must be able to write
# the mounted folder. Secrets come from the environment (docker run -e AZURE_CLIENT_SECRET ...), never the image.
# Pin both base images by digest in production (FROM golang:1.26.8@sha256:...).

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY cmd ./cmd
COPY internal ./internal
ARG VERSION=dev
ARG COMMIT=""
ARG DATE=""
# The build compiles msgraph-sdk-go: a few minutes. Its models package is one compiler process that peaks at about
# 4.5 GB by default; no DWARF for the SDK's packages (-s -w drops DWARF from the binary anyway) and a soft heap
# limit for the compiler (GOMEMLIMIT, set for this command only) keep it to about 2.7 GB (issue 13).
RUN CGO_ENABLED=0 GOMEMLIMIT=2600MiB go build -trimpath -buildvcs=false \
      -gcflags='github.com/microsoftgraph/msgraph-sdk-go/...=-dwarf=false' \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" \
      -o /out/hrsync ./cmd/hrsync

# distroless/static: CA certificates (Graph and HR APIs over TLS), /tmp, a "nonroot" user; no shell, no
# package manager. hrsync carries its own time zone database.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hrsync /usr/local/bin/hrsync
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/hrsync"]
CMD ["--help"]
