/*
 * A standalone Kafka broker for benchmarks: librdkafka's in-memory mock cluster
 * (rdkafka_mock.h) kept alive in its own process so that any client can reach it.
 *
 *   mock-cluster [topic:partitions ...]
 *
 * Prints "bootstrap <host:port>" on stdout once listening, then serves until stdin
 * closes or SIGTERM/SIGINT arrives. Built by bench/run.mjs with gcc against librdkafka-dev.
 * Note: the mock keeps only a few MiB per partition and its Fetch does not wait for data.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>

static volatile sig_atomic_t stop_requested = 0;
static void on_signal(int sig) { (void)sig; stop_requested = 1; }

int main(int argc, char **argv) {
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        /* The mock cluster needs a host rd_kafka_t; a producer handle that never produces. */
        if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "conf: %s\n", errstr);
                return 1;
        }
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "rd_kafka_new: %s\n", errstr);
                return 1;
        }
        rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
        if (!mc) {
                fprintf(stderr, "rd_kafka_mock_cluster_new failed\n");
                return 1;
        }
        for (int i = 1; i < argc; i++) {
                char name[256];
                int parts = 1;
                const char *colon = strchr(argv[i], ':');
                size_t len = colon ? (size_t)(colon - argv[i]) : strlen(argv[i]);
                if (len == 0 || len >= sizeof(name)) continue;
                memcpy(name, argv[i], len);
                name[len] = '\0';
                if (colon) parts = atoi(colon + 1);
                if (parts < 1) parts = 1;
                rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, name, parts, 1);
                if (err) fprintf(stderr, "topic %s: %s\n", name, rd_kafka_err2str(err));
        }
        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
        printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(mc));
        fflush(stdout);

        struct pollfd pfd = { .fd = 0, .events = POLLIN };
        while (!stop_requested) {
                int n = poll(&pfd, 1, 200);
                if (n > 0) {
                        char buf[64];
                        ssize_t r = read(0, buf, sizeof(buf));
                        if (r <= 0) break; /* stdin closed: the runner is gone */
                }
        }
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return 0;
}
