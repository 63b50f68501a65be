/*
 * test_aws_peer.h - a tiny in-process loopback HTTP peer for the AWS unit tests: it
 * accepts connections on 127.0.0.1 (ephemeral port) one at a time, records each raw
 * request and answers the next canned reply (the last one repeats), then closes.
 * Static functions: include it from one test file.
 */
#ifndef BT_TEST_AWS_PEER_H
#define BT_TEST_AWS_PEER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buildtrail/buf.h"

typedef struct reply {
    int status;
    const char *ctype;
    const char *body;
} reply;

typedef struct peer {
    int fd;
    int port;
    pthread_t th;
    const reply *replies;
    int nreplies;
    int served;
    pthread_mutex_t mu;
    bt_buf received; /* every raw request, concatenated */
} peer;

static void *peer_main(void *p)
{
    peer *s = p;
    for (;;) {
        char buf[65536];
        size_t len = 0;
        const reply *r;
        char head[512];
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        /* read headers, then Content-Length bytes */
        for (;;) {
            ssize_t n = recv(c, buf + len, sizeof buf - 1 - len, 0);
            char *end, *cl;
            if (n <= 0)
                break;
            len += (size_t)n;
            buf[len] = '\0';
            end = strstr(buf, "\r\n\r\n");
            if (!end)
                continue;
            cl = strcasestr(buf, "\r\nContent-Length:");
            if (!cl || cl > end || len >= (size_t)(end + 4 - buf) + (size_t)atol(cl + 17))
                break;
        }
        pthread_mutex_lock(&s->mu);
        bt_buf_append(&s->received, buf, len);
        bt_buf_puts(&s->received, "\n----\n");
        r = &s->replies[s->served < s->nreplies ? s->served : s->nreplies - 1];
        s->served++;
        pthread_mutex_unlock(&s->mu);
        snprintf(head, sizeof head,
                 "HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                 "x-amzn-RequestId: rid-%d\r\nConnection: close\r\n\r\n",
                 r->status, r->ctype, strlen(r->body), s->served);
        send(c, head, strlen(head), MSG_NOSIGNAL);
        send(c, r->body, strlen(r->body), MSG_NOSIGNAL);
        close(c);
    }
}

static int peer_start(peer *s, const reply *replies, int n)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    memset(s, 0, sizeof *s);
    bt_buf_init(&s->received, 0);
    s->replies = replies;
    s->nreplies = n;
    pthread_mutex_init(&s->mu, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->fd, 8) != 0 ||
        getsockname(s->fd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    s->port = ntohs(a.sin_port);
    return pthread_create(&s->th, NULL, peer_main, s);
}

static void peer_stop(peer *s)
{
    shutdown(s->fd, SHUT_RDWR);
    close(s->fd);
    pthread_join(s->th, NULL);
    pthread_mutex_destroy(&s->mu);
    bt_buf_dispose(&s->received);
}

#endif
