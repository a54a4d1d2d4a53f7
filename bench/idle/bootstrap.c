/* A minimal custom runtime (provided.al2023 `bootstrap`) for counting idle instances: it asks the
 * Runtime API for the next event, sleeps when the event says {"sleep": s}, and echoes the event.
 * Its own memory is a few hundred KB, so a thousand instances measure the platform, not a
 * language runtime. One connection, HTTP/1.1 keep-alive; no error handling beyond exiting (the
 * agent then reports Runtime.ExitError). */
#define _GNU_SOURCE
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[1 << 20];

static int connect_api(const char *api) {
    char host[256];
    snprintf(host, sizeof host, "%s", api);
    char *colon = strrchr(host, ':');
    if (!colon) exit(2);
    *colon = 0;
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0) exit(2);
    int fd = socket(res->ai_family, res->ai_socktype, 0);
    if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) exit(2);
    freeaddrinfo(res);
    return fd;
}

static void send_all(int fd, const char *data, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, data, n);
        if (w <= 0) exit(3);
        data += w, n -= (size_t)w;
    }
}

/* Reads one response into buf: returns the body's offset; sets *body_len and the request id. */
static size_t read_response(int fd, size_t *body_len, char *request_id, size_t id_size) {
    size_t have = 0;
    char *end = NULL;
    while (!(end = memmem(buf, have, "\r\n\r\n", 4))) {
        ssize_t r = read(fd, buf + have, sizeof buf - have - 1);
        if (r <= 0) exit(4);
        have += (size_t)r;
    }
    size_t head = (size_t)(end - buf) + 4, length = 0;
    buf[head - 2] = 0;
    for (char *line = strstr(buf, "\r\n"); line && *line; line = strstr(line + 2, "\r\n")) {
        char *field = line + 2;
        if (!strncasecmp(field, "content-length:", 15)) length = strtoul(field + 15, NULL, 10);
        if (request_id && !strncasecmp(field, "lambda-runtime-aws-request-id:", 30)) {
            char *value = field + 30;
            while (*value == ' ') value++;
            size_t n = strcspn(value, "\r");
            if (n >= id_size) exit(5);
            memcpy(request_id, value, n);
            request_id[n] = 0;
        }
    }
    if (head + length >= sizeof buf) exit(6);
    while (have < head + length) {
        ssize_t r = read(fd, buf + have, head + length - have);
        if (r <= 0) exit(4);
        have += (size_t)r;
    }
    *body_len = length;
    return head;
}

int main(void) {
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api) return 1;
    int fd = connect_api(api);
    char request[512], id[128], event[65536];
    for (;;) {
        int n = snprintf(request, sizeof request,
                         "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\n\r\n", api);
        send_all(fd, request, (size_t)n);
        size_t length, at = read_response(fd, &length, id, sizeof id);
        if (length >= sizeof event) return 7;
        memcpy(event, buf + at, length);
        event[length] = 0;
        char *sleep_at = strstr(event, "\"sleep\"");
        if (sleep_at && (sleep_at = strchr(sleep_at, ':'))) usleep((useconds_t)(atof(sleep_at + 1) * 1e6));
        n = snprintf(request, sizeof request,
                     "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: %s\r\n"
                     "Content-Length: %zu\r\n\r\n", id, api, length);
        send_all(fd, request, (size_t)n);
        send_all(fd, event, length);
        read_response(fd, &length, NULL, 0);
    }
}
