/*
 * One client asking one question at a time, as a person's dig does, and
 * timing each round trip (bench/latency.py runs it; see bench/README.md).
 *
 *     latency COUNT GAP_US TIMEOUT_MS NAMES_FILE ADDRESS:PORT...
 *
 * Round r asks the name on line r (modulo the file's length) of every server
 * in turn, starting with server r modulo their number, so that whatever
 * drifts during the run (the machine, its other tenants) falls on every
 * server alike. A question goes out only after the last one's answer came
 * back (or TIMEOUT_MS went by). With GAP_US, the client sleeps
 * GAP_US / servers after each answer: each server is then idle for about
 * GAP_US before its next question (a person's pause between two digs).
 *
 * The question is dig's: RD and AD set, EDNS(0) with a 1232-byte UDP size
 * (RFC 6891) and a client cookie (RFC 7873), a random ID. Each server has
 * its own connected UDP socket. The round trip is CLOCK_MONOTONIC from just
 * before send() to just after the matching recv() (an answer whose ID does
 * not match, a late one, is read and ignored).
 *
 * Prints one line per question: "SERVER NANOSECONDS RCODE" for an answer,
 * "SERVER lost" when none came within TIMEOUT_MS (SERVER: its index in the
 * argument list, from 0).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_QUESTION 512
#define MAX_SERVERS 64

struct question {
    unsigned char wire[MAX_QUESTION];
    size_t length;
};

static const struct {
    const char *name;
    uint16_t code;
} TYPES[] = {{"A", 1},   {"NS", 2},  {"CNAME", 5}, {"SOA", 6},   {"PTR", 12},
             {"MX", 15}, {"TXT", 16}, {"AAAA", 28}, {"DS", 43},   {"DNSKEY", 48}};

static void fail(const char *what) {
    perror(what);
    exit(2);
}

static uint16_t type_code(const char *name) {
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (strcasecmp(TYPES[i].name, name) == 0)
            return TYPES[i].code;
    fprintf(stderr, "latency: unknown type %s\n", name);
    exit(2);
}

/* The question "name type" as dig would send it, ID left zero. */
static void encode(const char *name, const char *type, struct question *q) {
    static const unsigned char header[12] = {0, 0, 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, 1};
    unsigned char *p = q->wire;
    memcpy(p, header, sizeof header);
    p += sizeof header;
    const char *label = name;
    while (*label && strcmp(label, ".") != 0) {
        const char *dot = strchr(label, '.');
        size_t length = dot ? (size_t)(dot - label) : strlen(label);
        if (length == 0 || length > 63 || p + length + 1 >= q->wire + MAX_QUESTION - 40) {
            fprintf(stderr, "latency: bad name %s\n", name);
            exit(2);
        }
        *p++ = (unsigned char)length;
        memcpy(p, label, length);
        p += length;
        label = dot ? dot + 1 : label + length;
    }
    *p++ = 0;
    uint16_t code = type_code(type);
    *p++ = code >> 8;
    *p++ = code & 0xff;
    *p++ = 0;
    *p++ = 1; /* IN */
    /* OPT: root owner, type 41, UDP size 1232, no flags, a COOKIE option (10) of 8 bytes. */
    static const unsigned char opt[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 12, 0, 10, 0, 8};
    memcpy(p, opt, sizeof opt);
    p += sizeof opt;
    if (getrandom(p, 8, 0) != 8)
        fail("getrandom");
    p += 8;
    q->length = (size_t)(p - q->wire);
}

static int connect_to(const char *address_port, int timeout_ms) {
    char address[64];
    const char *colon = strrchr(address_port, ':');
    if (!colon || (size_t)(colon - address_port) >= sizeof address) {
        fprintf(stderr, "latency: ADDRESS:PORT expected, not %s\n", address_port);
        exit(2);
    }
    memcpy(address, address_port, (size_t)(colon - address_port));
    address[colon - address_port] = 0;
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (inet_pton(AF_INET, address, &to.sin_addr) != 1) {
        fprintf(stderr, "latency: bad address %s\n", address);
        exit(2);
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        fail("socket");
    struct timeval timeout = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) < 0)
        fail("setsockopt");
    if (connect(fd, (struct sockaddr *)&to, sizeof to) < 0)
        fail("connect");
    return fd;
}

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Asks `q` on `fd`; the round trip in ns and the RCODE, or -1 when no answer came in time. */
static int64_t ask(int fd, struct question *q, int timeout_ms, int *rcode) {
    uint16_t id;
    if (getrandom(&id, sizeof id, 0) != sizeof id)
        fail("getrandom");
    q->wire[0] = id >> 8;
    q->wire[1] = id & 0xff;
    unsigned char answer[4096];
    int64_t start = now_ns();
    if (send(fd, q->wire, q->length, 0) != (ssize_t)q->length)
        fail("send");
    for (;;) {
        ssize_t n = recv(fd, answer, sizeof answer, 0);
        int64_t end = now_ns();
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNREFUSED))
            return -1;
        if (n < 0)
            fail("recv");
        if (n >= 12 && answer[0] == q->wire[0] && answer[1] == q->wire[1] && (answer[2] & 0x80)) {
            *rcode = answer[3] & 0x0f;
            return end - start;
        }
        if (end - start > (int64_t)timeout_ms * 1000000)
            return -1; /* only stale answers until the time-out */
    }
}

int main(int argc, char **argv) {
    if (argc < 6 || argc - 5 > MAX_SERVERS) {
        fprintf(stderr, "usage: latency COUNT GAP_US TIMEOUT_MS NAMES_FILE ADDRESS:PORT...\n");
        return 2;
    }
    long count = atol(argv[1]), gap_us = atol(argv[2]);
    int timeout_ms = atoi(argv[3]);
    int servers = argc - 5;
    FILE *names = fopen(argv[4], "r");
    if (!names)
        fail(argv[4]);
    struct question *questions = NULL;
    size_t n = 0, allocated = 0;
    char line[512], name[300], type[16];
    while (fgets(line, sizeof line, names)) {
        if (sscanf(line, "%299s %15s", name, type) != 2)
            continue;
        if (n == allocated) {
            allocated = allocated ? allocated * 2 : 1024;
            questions = realloc(questions, allocated * sizeof *questions);
            if (!questions)
                fail("realloc");
        }
        encode(name, type, &questions[n++]);
    }
    fclose(names);
    if (n == 0) {
        fprintf(stderr, "latency: no questions in %s\n", argv[4]);
        return 2;
    }
    int fds[MAX_SERVERS];
    for (int s = 0; s < servers; s++)
        fds[s] = connect_to(argv[5 + s], timeout_ms);
    struct timespec pause = {.tv_sec = gap_us / servers / 1000000, .tv_nsec = (gap_us / servers % 1000000) * 1000};
    for (long r = 0; r < count; r++) {
        for (int i = 0; i < servers; i++) {
            int s = (int)((r + i) % servers), rcode = 0;
            int64_t rtt = ask(fds[s], &questions[r % (long)n], timeout_ms, &rcode);
            if (rtt < 0)
                printf("%d lost\n", s);
            else
                printf("%d %lld %d\n", s, (long long)rtt, rcode);
            if (gap_us > 0)
                nanosleep(&pause, NULL);
        }
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
