/*
 * compat_log_syslog.c - what the syslog target puts on the wire: priority
 * and facility, ident, priority bump and drop rules, reload on FACILITY /
 * IDENT changes, and the systemd journal fields (USE_JOURNAL).
 *
 * Needs root: in a private mount namespace it mounts a tmpfs over /dev and
 * /run and listens on /dev/log and /run/systemd/journal/socket itself.
 * Without that privilege it prints a single line (same on both libraries).
 */
#define _GNU_SOURCE
#include <qb/qblog.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int sock_at(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -1;
	return fd;
}

/* Print every datagram waiting on @p fd, one per line, \n shown as '|'. */
static void drain(const char *label, int fd)
{
	char buf[4096];
	struct pollfd p = {.fd = fd, .events = POLLIN};

	while (poll(&p, 1, 50) > 0) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
		ssize_t i;

		if (n <= 0)
			break;
		buf[n] = '\0';
		for (i = 0; i < n; i++)
			if (buf[i] == '\n')
				buf[i] = '|';
		printf("%s %s\n", label, buf);
	}
}

int main(void)
{
	int slog, jnl;

	if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("tmpfs", "/dev", "tmpfs", 0, NULL) != 0 ||
	    mount("tmpfs", "/run", "tmpfs", 0, NULL) != 0) {
		printf("no private mount namespace: nothing to compare\n");
		return 0;
	}
	mkdir("/run/systemd", 0755);
	mkdir("/run/systemd/journal", 0755);
	slog = sock_at("/dev/log");
	jnl = sock_at("/run/systemd/journal/socket");
	if (slog < 0 || jnl < 0) {
		printf("cannot listen\n");
		return 1;
	}

	qb_log_init("sysl", LOG_DAEMON, LOG_DEBUG);
	qb_log(LOG_ERR, "error %d", 1);
	qb_log(LOG_INFO, "info");
	qb_log(LOG_DEBUG, "debug");
	qb_log(LOG_TRACE, "trace filtered");
	qb_log_filter_ctl(QB_LOG_SYSLOG, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_TRACE);
	qb_log(LOG_TRACE, "trace not bumped: dropped");
	qb_log(LOG_INFO, "ext" QB_XS "info");
	drain("A", slog);

	printf("bump %d\n", qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_PRIORITY_BUMP, -2));
	qb_log(LOG_TRACE, "trace bumped");
	qb_log(LOG_DEBUG, "debug bumped");
	qb_log(LOG_NOTICE, "notice not bumped");
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_PRIORITY_BUMP, -9);
	qb_log(LOG_DEBUG, "clamped to emerg");
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_PRIORITY_BUMP, 1);
	qb_log(LOG_INFO, "info with bump 1");
	qb_log(LOG_DEBUG, "debug with bump 1: dropped");
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_PRIORITY_BUMP, 0);
	drain("B", slog);

	printf("facility %d\n", qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_FACILITY, LOG_LOCAL3));
	qb_log(LOG_WARNING, "local3");
	printf("ident %d\n",
	       qb_log_ctl2(QB_LOG_SYSLOG, QB_LOG_CONF_IDENT, QB_LOG_CTL2_S("renamed")));
	qb_log(LOG_WARNING, "renamed ident");
	qb_log_format_set(QB_LOG_SYSLOG, "%N:%p:%n:%b");
	qb_log(LOG_WARNING, "formatted");
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_MAX_LINE_LEN, 20);
	qb_log(LOG_WARNING, "a long line that is cut");
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_MAX_LINE_LEN, QB_LOG_MAX_LEN);
	drain("C", slog);

	printf("journal %d\n", qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_USE_JOURNAL, 1));
	qb_log(LOG_ERR, "to journal %s", "x");
	qb_log2("5a1b2c3d4e5f60718293a4b5c6d7e8f9", LOG_NOTICE, "with id");
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_PRIORITY_BUMP, -1);
	qb_log(LOG_TRACE, "journal trace bumped");
	drain("J", jnl);
	drain("S", slog);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_USE_JOURNAL, 0);
	qb_log(LOG_ERR, "back to syslog");
	drain("D", slog);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, 0);
	qb_log(LOG_ERR, "disabled");
	drain("E", slog);
	qb_log_fini();
	return 0;
}
