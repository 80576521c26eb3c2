// SPDX-License-Identifier: GPL-2.0
/*
 * export.c - one exporter per -c: records wait in a bounded queue, are
 * packed into messages by the format's encoder (IPFIX or v9) and leave
 * through the destination's transport. A record leaves the queue only once
 * the message carrying it was sent, so a TCP collector that goes away loses
 * nothing the queue can hold: the message is rebuilt, with templates, on
 * the next connection.
 *
 * Each exporter runs in its own thread. The meter only appends records to
 * the exporter's inbox under a mutex and never waits for the network: a
 * collector that stalls, black-holes or resolves slowly delays its own
 * thread, while the meter keeps reading the kernel and ending flows on time.
 * --export-buffer bounds the records held in inbox and queue together;
 * what does not fit is counted as dropped.
 */
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "export.h"
#include "export_dest.h"
#include "export_encoder.h"
#include "export_queue.h"
#include "exporter_id.h"
#include "log.h"

#define GONE_MAX 3       /* closed connections kept out of the meter */
_Static_assert(MAX_SELF_CONNS >= MAX_COLLECTORS * (1 + GONE_MAX),
	       "self_conns must hold every collector's connections");
#define CLOSE_WAIT_SEC 3 /* at exit, how long to wait for a TCP collector */
#define WAKE_MS 200      /* the thread's timers are checked this often */
#define MOVE_CHUNK 4096  /* records taken from the inbox per lock */
#define ROOM_WAIT_SEC 1  /* -r: how long a full buffer may hold the replay */
#define DRAIN_INBOX 8192 /* at exit: records the inbox holds before the
			  * meter waits (hot memory, reused: export_queue.c) */

struct exporter {
	const struct config *cfg;
	struct export_dest dest;
	struct transport tp;
	struct export_template tmpl;
	const struct encoder_ops *ops;
	struct encoder *enc;
	struct record_queue q;
	size_t in_msg;            /* queued records already in the open message */
	bool msg_open;            /* something added since the last message */
	bool session;             /* encoder session matches the connection */
	unsigned long long session_conn; /* transport connect count it is for */
	bool templates_due, options_due;
	unsigned int msgs_since_templates;
	time_t last_templates, last_options;
	struct export_options opts;
	struct exporter_stats st;
	/* UDP: the records of the latest datagram stay at the head of the
	 * queue until no refusal came back for it (the next send, or the
	 * next second), so that they can go to the next address; file: the
	 * records of the messages in the write buffer, until it is written */
	size_t unconfirmed;
	int moves;                /* refusals in a row that moved address */
	bool refusing;            /* refused since the last confirmation */
	struct ratelog size_log;  /* "does not fit" repeats at every try */
	time_t last_tick;

	/* shared between the meter and the exporter's thread, under lock */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool stopping;
	bool finished;              /* the thread has been joined */
	bool draining;              /* metering stopped: the meter may wait */
	bool drain_stuck;           /* ... and waited for nothing once */
	struct record_queue inbox;  /* handed over, not yet queued */
	size_t held;                /* q.count as the thread last said */
	__u64 inbox_dropped;        /* records the bound turned away */
	__u64 inbox_dropped_packets; /* and the packets they carried */
	struct metering_stats ms;
	struct exporter_stats shown; /* the thread's st, last published */
	struct export_conn conn;
	bool conn_up;
	bool conn_pending;         /* announced, not seen connected yet */
	unsigned long long announced_at; /* tp.connects when announced */
	struct export_conn gone[GONE_MAX]; /* closed lately, newest first */
	time_t gone_until[GONE_MAX];
	int n_gone;
	/* keeping a new TCP connection out of the meter before it carries
	 * data (so the collector's ACKs are never metered): conn_gen counts
	 * connection changes, the meter reads one (read_gen) and says when it
	 * has entered it (entered_gen); watched once a meter asks at all */
	unsigned int conn_gen, read_gen, entered_gen;
	bool watched;
};

#define METER_WAIT_MS 500 /* at most this long for the meter to enter a
			   * new connection */

/* Who exports, and the interface names and descriptions, for the options
 * records. */
static void options_init(struct exporter *ex)
{
	const struct config *cfg = ex->cfg;
	struct export_options *o = &ex->opts;
	bool v6;

	o->domain = cfg->observation_domain;
	o->boot_ms = system_init_epoch_ms();
	o->pid = getpid();
	o->sample_rate = cfg->sample_rate ? cfg->sample_rate : 1;
	if (exporter_local_addr(&ex->dest, o->exporter_v4, o->exporter_v6, &v6))
		pr_info("collector %s: no local address found for the options records; 127.0.0.1 it is\n",
			ex->dest.text);
	for (int i = 0; i < cfg->n_ifaces && i < MAX_IFACES; i++) {
		char path[128], alias[IFACE_DESC_LEN] = "";
		FILE *f;

		o->ifindex[o->n_ifaces] = if_nametoindex(cfg->ifnames[i]);
		strncpy(o->ifname[o->n_ifaces], cfg->ifnames[i], IFNAMSIZ - 1);
		snprintf(path, sizeof(path), "/sys/class/net/%s/ifalias",
			 cfg->ifnames[i]);
		f = fopen(path, "r");
		if (f) {
			if (!fgets(alias, sizeof(alias), f))
				alias[0] = '\0';
			alias[strcspn(alias, "\n")] = '\0';
			fclose(f);
		}
		snprintf(o->ifdesc[o->n_ifaces], IFACE_DESC_LEN, "%s", alias);
		o->n_ifaces++;
	}
}

/* No refusal came back for the latest datagram: its records count as
 * exported. */
static void confirm(struct exporter *ex)
{
	if (ex->unconfirmed)
		ex->refusing = false;
	ex->st.records += ex->unconfirmed;
	ex->st.packets += queue_packets(&ex->q, ex->unconfirmed);
	queue_pop(&ex->q, ex->unconfirmed);
	ex->unconfirmed = 0;
	ex->moves = 0;
}

/* The collector refused the latest datagram. When the transport moved to
 * another address, its records go again (a new session: templates first);
 * true then. Once every address refused them, they are counted as not
 * delivered, and until a datagram of records gets through, templates go
 * before each one: the collector may be starting. */
static bool refused(struct exporter *ex)
{
	if (ex->tp.n_addrs > 1 && ex->moves < ex->tp.n_addrs - 1) {
		ex->moves++;
		ex->unconfirmed = 0;
		ex->in_msg = 0;
		ex->session = false;
		ex->msg_open = false;
		return true;
	}
	ex->st.records_unsent += ex->unconfirmed;
	ex->st.packets_unsent += queue_packets(&ex->q, ex->unconfirmed);
	queue_pop(&ex->q, ex->unconfirmed);
	ex->unconfirmed = 0;
	ex->refusing = true;
	return false;
}

/* File: the write buffer into the file; its records count as exported
 * then, not before. */
static int write_out(struct exporter *ex)
{
	int err;

	if (ex->dest.kind != DEST_FILE)
		return 0;
	err = transport_write_out(&ex->tp);
	if (!err)
		confirm(ex);
	return err;
}

/* Sends the open message; on success its records leave the queue (file:
 * once the buffer holding it is written). */
static int flush(struct exporter *ex)
{
	const __u8 *msg;
	size_t len;
	int err;

	if (!ex->msg_open)
		return 0;
	ex->msg_open = false;
	err = ex->ops->finish(ex->enc, &msg, &len);
	/* file: a buffer this message would overflow is written first, so
	 * that exactly its records are confirmed */
	if (!err && len && transport_pending(&ex->tp) + len > FILE_WRITE_BYTES)
		err = write_out(ex);
	if (!err && len)
		err = transport_send(&ex->tp, msg, len);
	/* UDP: the one before was refused and this one did not leave; on
	 * the same address (the error is taken now) it is sent again */
	if (err == -ECONNREFUSED && ex->dest.kind == DEST_UDP) {
		if (refused(ex))
			return err;
		err = transport_send(&ex->tp, msg, len);
	}
	if (err) {
		/* the records stay queued for the next connection (or
		 * the next try, UDP) */
		ex->in_msg = 0;
		ex->session = false;
		return err;
	}
	ex->st.messages++;
	ex->st.octets += len;
	if (ex->dest.kind == DEST_UDP) {
		confirm(ex);
		ex->unconfirmed = ex->in_msg;
		if (ex->refusing && ex->in_msg)
			ex->templates_due = true;
	} else if (ex->dest.kind == DEST_FILE) {
		ex->unconfirmed += ex->in_msg;
	} else {
		ex->st.records += ex->in_msg;
		ex->st.packets += queue_packets(&ex->q, ex->in_msg);
		queue_pop(&ex->q, ex->in_msg);
	}
	ex->in_msg = 0;
	if (ex->dest.kind == DEST_UDP && ex->cfg->template_refresh_msgs &&
	    ++ex->msgs_since_templates >= ex->cfg->template_refresh_msgs)
		ex->templates_due = true;
	return 0;
}

/* Adds through call, starting a new message once if the open one is full.
 * libfixbuf in manual mode also answers "full" when templates and data
 * records would share a message: the retry in a new message settles it. */
#define ADD_OR_FLUSH(ex, call)                                          \
	({                                                              \
		int _e = (call);                                        \
		if (_e == -ENOBUFS) {                                   \
			_e = flush(ex);                                 \
			if (!_e)                                        \
				_e = (call);                            \
		}                                                       \
		if (!_e)                                                \
			(ex)->msg_open = true;                          \
		_e;                                                     \
	})

static int send_templates(struct exporter *ex, time_t now)
{
	int err = ADD_OR_FLUSH(ex, ex->ops->add_templates(ex->enc));
	unsigned long long skipped;

	if (err == -ENOBUFS && log_ratelimit(&ex->size_log, now, &skipped))
		pr_warn("collector %s: templates do not fit in --max-message-size %u; nothing can be sent\n",
			ex->dest.text, ex->cfg->max_message_size);
	if (err)
		return err;
	ex->templates_due = false;
	ex->msgs_since_templates = 0;
	ex->last_templates = now;
	ex->st.template_sends++;
	return 0;
}

static int send_options(struct exporter *ex, time_t now)
{
	int done = 0, before, err;

	ex->opts.messages = ex->st.messages;
	ex->opts.records = ex->st.records;
	ex->opts.octets = ex->st.octets;
	/* options may take several messages: go on while they advance */
	do {
		before = done;
		err = ADD_OR_FLUSH(ex, ex->ops->add_options(ex->enc, &ex->opts, &done));
		if (done != before)
			ex->msg_open = true; /* the next flush sends it */
	} while (err == -ENOBUFS && done != before);
	if (err)
		return err;
	ex->options_due = false;
	ex->last_options = now;
	ex->st.options_sends++;
	return 0;
}

/* Moves queued records into messages while the transport takes them. */
static int drain(struct exporter *ex, time_t now, bool may_connect)
{
	unsigned long long skipped;
	int err = 0;

	while (!err && transport_ready(&ex->tp, now, may_connect)) {
		/* a new TCP connection is a new transport session: sequence
		 * numbers restart, templates go first, the open message and
		 * its records are rebuilt */
		if (!ex->session || ex->session_conn != ex->tp.connects) {
			err = ex->ops->reset(ex->enc);
			/* a failed reset leaves no encoder session (IPFIX:
			 * no fBuf): try again next time, never use it */
			ex->session = !err;
			ex->session_conn = ex->tp.connects;
			ex->templates_due = ex->options_due = true;
			ex->msg_open = false;
			ex->in_msg = 0;
			continue;
		}
		if (ex->templates_due) {
			err = send_templates(ex, now);
		} else if (ex->options_due) {
			err = send_options(ex, now);
		} else if (ex->unconfirmed + ex->in_msg < ex->q.count) {
			err = ADD_OR_FLUSH(ex, ex->ops->add_record(
					ex->enc, queue_at(&ex->q, ex->unconfirmed + ex->in_msg)));
			if (!err)
				ex->in_msg++;
		} else {
			/* caught up: what is buffered goes to the file now */
			err = flush(ex);
			if (!err)
				err = write_out(ex);
			if (err != -ECONNREFUSED)
				return err;
		}
		/* UDP: the transport moved to the next address after a
		 * refusal; the refused records go there now (at most once per
		 * address: refused() counts the moves) */
		if (err == -ECONNREFUSED && ex->dest.kind == DEST_UDP)
			err = 0;
	}
	if (err == -ENOBUFS && log_ratelimit(&ex->size_log, now, &skipped))
		pr_warn("collector %s: a record does not fit in --max-message-size %u\n",
			ex->dest.text, ex->cfg->max_message_size);
	return err;
}

/* A connection that closed stays out of the meter for a while; called
 * under lock. */
static void linger(struct exporter *ex, time_t now)
{
	int keep = 0;

	if (ex->n_gone == GONE_MAX)
		ex->n_gone--;
	memmove(&ex->gone[1], &ex->gone[0], ex->n_gone * sizeof(ex->gone[0]));
	memmove(&ex->gone_until[1], &ex->gone_until[0],
		ex->n_gone * sizeof(ex->gone_until[0]));
	ex->gone[0] = ex->conn;
	ex->gone_until[0] = now + EXPORT_CONN_LINGER_SEC;
	ex->n_gone++;
	while (keep < ex->n_gone && ex->gone_until[keep] > now)
		keep++;
	ex->n_gone = keep;
}

/* The connection in conn was made (it may have carried data and the
 * collector may still ACK it), not just announced. Under lock. */
static bool conn_was_made(const struct exporter *ex)
{
	return ex->conn_up &&
	       (!ex->conn_pending || ex->tp.connects != ex->announced_at);
}

/* What the meter may read: the thread's statistics and connections. */
static void publish(struct exporter *ex)
{
	struct export_conn c = {}; /* compared whole: no stack garbage */
	time_t now = time(NULL);
	bool up = ex->dest.kind != DEST_FILE &&
		  !transport_ends(&ex->tp, &c.local, &c.peer);

	c.protocol = ex->dest.kind == DEST_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	pthread_mutex_lock(&ex->lock);
	ex->shown = ex->st;
	ex->shown.send_errors = ex->tp.send_errors;
	ex->shown.connects = ex->tp.connects;
	ex->shown.connected = ex->tp.fd >= 0;
	ex->shown.queued = ex->q.count;
	if (ex->held != ex->q.count)
		pthread_cond_broadcast(&ex->wake); /* room for a waiting -r */
	ex->held = ex->q.count;
	if (up != ex->conn_up || (up && memcmp(&c, &ex->conn, sizeof(c)))) {
		if (conn_was_made(ex))
			linger(ex, now);
		ex->conn_gen++;
	}
	ex->conn_pending = false;
	if (ex->n_gone && ex->gone_until[ex->n_gone - 1] <= now) {
		ex->n_gone--; /* the oldest expired */
		ex->conn_gen++;
	}
	ex->conn_up = up;
	if (up)
		ex->conn = c;
	pthread_mutex_unlock(&ex->lock);
}

/* Waits until the meter (if one watches) has entered the connection as
 * it is now. Bounded: a meter that is busy costs METER_WAIT_MS, then the
 * connection goes ahead anyway. */
static void await_meter(struct exporter *ex)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += METER_WAIT_MS * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&ex->lock);
	while (ex->watched && !ex->stopping && ex->entered_gen != ex->conn_gen)
		if (pthread_cond_timedwait(&ex->wake, &ex->lock, &until))
			break;
	pthread_mutex_unlock(&ex->lock);
}

/* The transport's hook: a TCP connection is about to be made. The meter
 * enters it before the SYN leaves, so that not even the collector's
 * SYN-ACK is metered. */
static void before_connect(void *ctx, const struct sockaddr_storage *local,
			   const struct sockaddr_storage *peer)
{
	struct exporter *ex = ctx;

	pthread_mutex_lock(&ex->lock);
	if (conn_was_made(ex))
		linger(ex, time(NULL));
	ex->announced_at = ex->tp.connects;
	memset(&ex->conn, 0, sizeof(ex->conn));
	ex->conn.local = *local;
	ex->conn.peer = *peer;
	ex->conn.protocol = ex->dest.kind == DEST_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	ex->conn_up = ex->conn_pending = true;
	ex->conn_gen++;
	pthread_mutex_unlock(&ex->lock);
	await_meter(ex);
}

/* UDP: did the collector refuse the latest datagram (waiting up to
 * wait_ms for its ICMP error)? Its records are then counted or sent
 * again; otherwise they count as exported. */
static void settle(struct exporter *ex, int wait_ms)
{
	if (ex->dest.kind == DEST_FILE)
		write_out(ex);
	else if (transport_check(&ex->tp, wait_ms))
		refused(ex);
	else
		confirm(ex);
}

/* Once a second: template refresh, options records, ICMP errors. */
static void timers(struct exporter *ex, time_t now, const struct metering_stats *ms,
		   __u64 inbox_dropped)
{
	const struct config *cfg = ex->cfg;

	settle(ex, 0);
	ex->opts.packets_not_metered = ms->packets_not_metered;
	ex->opts.flows_not_sent = ms->flows_dropped + ex->st.records_dropped +
				  inbox_dropped + ex->st.records_unsent;
	if (ex->dest.kind == DEST_UDP && cfg->template_refresh_sec &&
	    now - ex->last_templates >= (time_t)cfg->template_refresh_sec)
		ex->templates_due = true;
	if (cfg->options_interval &&
	    now - ex->last_options >= (time_t)cfg->options_interval)
		ex->options_due = true;
}

/* Takes what the meter handed over into the queue, as far as it has room
 * (the bound is shared, so it normally has). Called under lock. */
static void take_inbox(struct exporter *ex)
{
	size_t n = 0;

	/* an empty queue takes the whole inbox: the rings change places
	 * (the bound is the same), no record is copied */
	if (!ex->q.count && ex->inbox.count) {
		struct record_queue t = ex->q;

		ex->q = ex->inbox;
		ex->inbox = t;
	}
	while (ex->inbox.count && ex->q.count < ex->q.max && n++ < MOVE_CHUNK) {
		if (queue_push(&ex->q, queue_at(&ex->inbox, 0)))
			break;
		queue_pop(&ex->inbox, 1);
	}
	ex->held = ex->q.count;
	if (ex->draining)
		pthread_cond_broadcast(&ex->wake); /* room for the meter */
}

/* The last seconds: what is held goes out while the collector takes it. */
static void final_flush(struct exporter *ex)
{
	time_t deadline = time(NULL) + CLOSE_WAIT_SEC;
	struct timespec end;
	bool more;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += CLOSE_WAIT_SEC;
	for (;;) {
		struct timespec ts;

		/* no connect or send may outlast the deadline */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		transport_limit(&ex->tp, (end.tv_sec - ts.tv_sec) * 1000 +
					 (end.tv_nsec - ts.tv_nsec) / 1000000);
		pthread_mutex_lock(&ex->lock);
		take_inbox(ex);
		pthread_mutex_unlock(&ex->lock);
		drain(ex, time(NULL), true);
		/* a UDP collector's refusal of the last datagram is back by
		 * now when it is near (one far away is charged as delivered) */
		settle(ex, 100);
		pthread_mutex_lock(&ex->lock);
		more = ex->inbox.count || ex->q.count;
		pthread_mutex_unlock(&ex->lock);
		if (!more || time(NULL) >= deadline)
			break;
		usleep(100 * 1000);
	}
	pthread_mutex_lock(&ex->lock);
	if (more) {
		__u64 left = ex->q.count + ex->inbox.count;

		ex->st.records_dropped += left;
		ex->st.packets_unsent += queue_packets(&ex->q, ex->q.count) +
					 queue_packets(&ex->inbox, ex->inbox.count);
		pr_warn("collector %s: %llu records could not be delivered\n",
			ex->dest.text, (unsigned long long)left);
		queue_pop(&ex->q, ex->q.count);
		queue_pop(&ex->inbox, ex->inbox.count);
	}
	pthread_mutex_unlock(&ex->lock);
	publish(ex);
}

static void *exporter_main(void *arg)
{
	struct exporter *ex = arg;
	struct metering_stats ms;
	__u64 inbox_dropped;
	bool stopping;
	char subject[sizeof(ex->dest.text) + 16];

	snprintf(subject, sizeof(subject), "collector %s", ex->dest.text);
	log_set_thread_subject(subject); /* named in every message it logs */
	for (;;) {
		struct timespec until;
		time_t now;

		/* a full queue holding the latest datagram's records: settle
		 * them now rather than at the next second */
		if (ex->unconfirmed && ex->q.count >= ex->q.max) {
			settle(ex, 0);
			drain(ex, time(NULL), true);
			publish(ex);
		}
		pthread_mutex_lock(&ex->lock);
		if (!ex->stopping && (!ex->inbox.count || ex->q.count >= ex->q.max)) {
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_nsec += WAKE_MS * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&ex->wake, &ex->lock, &until);
		}
		stopping = ex->stopping;
		take_inbox(ex);
		ms = ex->ms;
		inbox_dropped = ex->inbox_dropped;
		pthread_mutex_unlock(&ex->lock);
		if (stopping)
			break;
		now = time(NULL);
		if (now != ex->last_tick) {
			ex->last_tick = now;
			timers(ex, now, &ms, inbox_dropped);
		}
		drain(ex, now, true);
		publish(ex);
	}
	final_flush(ex);
	return NULL;
}

struct exporter *exporter_open(const struct config *cfg, const char *dest)
{
	struct exporter *ex = calloc(1, sizeof(*ex));
	pthread_condattr_t ca;
	int err = -ENOMEM;

	if (!ex)
		goto fail;
	ex->cfg = cfg;
	err = dest_parse(dest, &ex->dest);
	if (err)
		goto fail_free;
	if (cfg->format == FORMAT_NFV9 && ex->dest.kind != DEST_UDP) {
		pr_warn("collector '%s': NetFlow v9 is exported over UDP only\n", dest);
		err = -EINVAL;
		goto fail_free;
	}
	if (cfg->format == FORMAT_NFV9 && cfg->biflow) {
		pr_warn("--biflow needs IPFIX: NetFlow v9 has no reverse elements\n");
		err = -EINVAL;
		goto fail_free;
	}
	err = template_load(cfg->template_name, cfg->biflow, &ex->tmpl);
	if (err)
		goto fail_free;
	ex->ops = cfg->format == FORMAT_NFV9 ? &nfv9_encoder_ops : &ipfix_encoder_ops;
	err = ex->ops->create(&ex->enc, cfg, &ex->tmpl, cfg->max_message_size);
	if (err)
		goto fail_free;
	queue_init(&ex->q, cfg->export_buffer_records);
	queue_init(&ex->inbox, cfg->export_buffer_records);
	options_init(ex);
	err = transport_open(&ex->tp, &ex->dest);
	if (!err)
		transport_pace(&ex->tp, cfg->udp_rate);
	if (err)
		goto fail_enc;
	ex->last_templates = ex->last_options = time(NULL);
	pr_info("exporting %s to %s (template %s)\n", ex->ops->name, dest,
		ex->tmpl.path);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ex->wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&ex->lock, NULL);
	/* connect (TCP), templates and options right away; no meter
	 * watches yet: the manager enters this connection before it
	 * attaches */
	ex->tp.before_connect = before_connect;
	ex->tp.hook_ctx = ex;
	drain(ex, time(NULL), true);
	publish(ex);
	err = -pthread_create(&ex->thread, NULL, exporter_main, ex);
	if (err) {
		pr_warn("collector '%s': cannot start its thread: %s\n", dest,
			strerror(-err));
		goto fail_sync;
	}
	return ex;

fail_sync:
	pthread_mutex_destroy(&ex->lock);
	pthread_cond_destroy(&ex->wake);
	transport_close(&ex->tp);
fail_enc:
	queue_free(&ex->inbox);
	queue_free(&ex->q);
	ex->ops->destroy(ex->enc);
fail_free:
	free(ex);
fail:
	errno = -err;
	return NULL;
}

/* Never waits for the network: the records are handed to the exporter's
 * thread, or counted as dropped when the bound is reached. */
int exporter_send(struct exporter *ex, const struct flow_record *recs, size_t n)
{
	/* a capture file waits for the collector instead (nothing is lost
	 * by waiting), as long as the collector takes something */
	bool may_wait;
	struct timespec until;
	size_t i = 0;

	pthread_mutex_lock(&ex->lock);
	/* and so does the meter at exit, as long as the exporter moves; it
	 * then hands over at most DRAIN_INBOX records ahead */
	may_wait = ex->cfg->pcap_file || (ex->draining && !ex->drain_stuck);
	while (i < n) {
		if (ex->inbox.count + ex->held < ex->q.max &&
		    !(may_wait && ex->draining && ex->inbox.count >= DRAIN_INBOX)) {
			if (queue_push(&ex->inbox, &recs[i]))
				break;
			i++;
			continue;
		}
		pthread_cond_broadcast(&ex->wake);
		if (!may_wait)
			break;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += ROOM_WAIT_SEC;
		if (pthread_cond_timedwait(&ex->wake, &ex->lock, &until)) {
			/* nothing left for that long: drop the rest, and at
			 * exit wait no more */
			ex->drain_stuck = ex->draining;
			break;
		}
	}
	ex->inbox_dropped += n - i;
	for (size_t k = i; k < n; k++)
		ex->inbox_dropped_packets += recs[k].fwd.packets + recs[k].rev.packets;
	if (i)
		pthread_cond_broadcast(&ex->wake);
	pthread_mutex_unlock(&ex->lock);
	return 0;
}

void exporter_draining(struct exporter *ex)
{
	pthread_mutex_lock(&ex->lock);
	ex->draining = true;
	pthread_mutex_unlock(&ex->lock);
}

void exporter_tick(struct exporter *ex, time_t now,
		   const struct metering_stats *ms)
{
	(void)now; /* the exporter's thread keeps its own time */
	if (!ms)
		return;
	pthread_mutex_lock(&ex->lock);
	ex->ms = *ms;
	pthread_mutex_unlock(&ex->lock);
}

int exporter_connections(const struct exporter *ex, struct export_conn *c,
			 int max)
{
	struct exporter *mex = (struct exporter *)ex; /* the lock only */
	int n = 0;

	pthread_mutex_lock(&mex->lock);
	mex->watched = true;
	mex->read_gen = ex->conn_gen;
	if (ex->conn_up && n < max)
		c[n++] = ex->conn;
	for (int i = 0; i < ex->n_gone && n < max; i++)
		c[n++] = ex->gone[i];
	pthread_mutex_unlock(&mex->lock);
	return n;
}

void exporter_connection_entered(struct exporter *ex)
{
	pthread_mutex_lock(&ex->lock);
	ex->entered_gen = ex->read_gen;
	pthread_cond_broadcast(&ex->wake);
	pthread_mutex_unlock(&ex->lock);
}

bool exporter_connection_changed(struct exporter *ex)
{
	bool changed;

	pthread_mutex_lock(&ex->lock);
	changed = ex->conn_gen != ex->entered_gen;
	pthread_mutex_unlock(&ex->lock);
	return changed;
}

void exporter_get_stats(const struct exporter *ex, struct exporter_stats *st)
{
	struct exporter *mex = (struct exporter *)ex; /* the lock only */

	pthread_mutex_lock(&mex->lock);
	*st = ex->shown;
	st->records_dropped += ex->inbox_dropped;
	st->packets_unsent += ex->inbox_dropped_packets;
	st->queued += ex->inbox.count;
	pthread_mutex_unlock(&mex->lock);
}

void exporter_close(struct exporter *ex)
{
	exporter_close_stats(ex, NULL);
}

/* The thread flushes for at most CLOSE_WAIT_SEC (connects and sends are
 * cut to the time left), after the one send it may be blocked in (2 s). */
void exporter_finish(struct exporter *ex)
{
	struct exporter_stats fin;

	if (!ex || ex->finished)
		return;
	pthread_mutex_lock(&ex->lock);
	ex->stopping = true;
	pthread_cond_broadcast(&ex->wake);
	pthread_mutex_unlock(&ex->lock);
	pthread_join(ex->thread, NULL);
	ex->finished = true;
	exporter_get_stats(ex, &fin);
	pr_info("collector %s: %llu records in %llu messages (%llu octets), %llu dropped, %llu not delivered (send errors %llu)\n",
		ex->dest.text, (unsigned long long)fin.records,
		(unsigned long long)fin.messages,
		(unsigned long long)fin.octets,
		(unsigned long long)fin.records_dropped,
		(unsigned long long)fin.records_unsent,
		(unsigned long long)fin.send_errors);
}

void exporter_close_stats(struct exporter *ex, struct exporter_stats *st)
{
	if (!ex)
		return;
	exporter_finish(ex);
	if (st)
		exporter_get_stats(ex, st);
	transport_close(&ex->tp);
	ex->ops->destroy(ex->enc);
	queue_free(&ex->q);
	queue_free(&ex->inbox);
	pthread_mutex_destroy(&ex->lock);
	pthread_cond_destroy(&ex->wake);
	free(ex);
}
