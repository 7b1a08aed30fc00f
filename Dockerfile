# Builds the one binary; used by docker-compose.yml for users with Docker.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/acronis-autotask ./cmd/acronis-autotask

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/acronis-autotask /usr/local/bin/acronis-autotask
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/acronis-autotask"]
CMD ["server"]
