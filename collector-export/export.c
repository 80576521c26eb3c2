// SPDX-License-Identifier: GPL-2.0
/*
 * export.c - one exporter per -c: records wait in a bounded queue, are
 * packed into messages by the format's encoder (IPFIX or v9) and leave
 * through the destination's transport. A record leaves the queue only once
 * the message carrying it was sent, so a TCP collector that goes away loses
 * nothing the queue can hold: the message is rebuilt, with templates, on
 * the next connection.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "export.h"
#include "export_dest.h"
#include "export_encoder.h"
#include "export_queue.h"
#include "log.h"

#define CLOSE_WAIT_SEC 3 /* at exit, how long to wait for a TCP collector */

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
};

static __u64 epoch_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Interface names and descriptions for the options records. */
static void options_init(struct exporter *ex)
{
	const struct config *cfg = ex->cfg;
	struct export_options *o = &ex->opts;

	o->domain = cfg->observation_domain;
	o->start_ms = epoch_ms();
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

/* Sends the open message; on success its records leave the queue. */
static int flush(struct exporter *ex)
{
	const __u8 *msg;
	size_t len;
	int err;

	if (!ex->msg_open)
		return 0;
	ex->msg_open = false;
	err = ex->ops->finish(ex->enc, &msg, &len);
	if (!err && len)
		err = transport_send(&ex->tp, msg, len);
	if (err) {
		/* the records stay queued for the next connection */
		ex->in_msg = 0;
		ex->session = false;
		return err;
	}
	ex->st.messages++;
	ex->st.octets += len;
	ex->st.records += ex->in_msg;
	queue_pop(&ex->q, ex->in_msg);
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

	if (err == -ENOBUFS)
		pr_warn("collector %s: templates do not fit in --max-message-size %u\n",
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
		} else if (ex->in_msg < ex->q.count) {
			err = ADD_OR_FLUSH(ex, ex->ops->add_record(
					ex->enc, queue_at(&ex->q, ex->in_msg)));
			if (!err)
				ex->in_msg++;
		} else {
			return flush(ex);
		}
	}
	if (err == -ENOBUFS)
		pr_warn("collector %s: a record does not fit in --max-message-size %u\n",
			ex->dest.text, ex->cfg->max_message_size);
	return err;
}

struct exporter *exporter_open(const struct config *cfg, const char *dest)
{
	struct exporter *ex = calloc(1, sizeof(*ex));
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
	options_init(ex);
	err = transport_open(&ex->tp, &ex->dest);
	if (!err)
		transport_pace(&ex->tp, cfg->udp_rate);
	if (err)
		goto fail_enc;
	ex->last_templates = ex->last_options = time(NULL);
	pr_info("exporting %s to %s (template %s)\n", ex->ops->name, dest,
		ex->tmpl.path);
	drain(ex, time(NULL), false); /* templates and options right away */
	return ex;

fail_enc:
	ex->ops->destroy(ex->enc);
fail_free:
	free(ex);
fail:
	errno = -err;
	return NULL;
}

int exporter_send(struct exporter *ex, const struct flow_record *recs, size_t n)
{
	time_t now = time(NULL);
	int err;

	for (size_t i = 0; i < n; i++) {
		err = queue_push(&ex->q, &recs[i]);
		if (err) {
			/* full: make room by sending, then drop if still full */
			drain(ex, now, false);
			err = queue_push(&ex->q, &recs[i]);
		}
		if (err)
			ex->st.records_dropped++;
	}
	err = drain(ex, now, false);
	return err == -ENOBUFS || err == -EINVAL ? err : 0;
}

void exporter_tick(struct exporter *ex, time_t now,
		   const struct metering_stats *ms)
{
	const struct config *cfg = ex->cfg;

	if (ms)
		ex->opts.packets_not_metered = ms->packets_not_metered;
	ex->opts.flows_not_sent = (ms ? ms->flows_dropped : 0) +
				  ex->st.records_dropped;
	if (ex->dest.kind == DEST_UDP && cfg->template_refresh_sec &&
	    now - ex->last_templates >= (time_t)cfg->template_refresh_sec)
		ex->templates_due = true;
	if (cfg->options_interval &&
	    now - ex->last_options >= (time_t)cfg->options_interval)
		ex->options_due = true;
	drain(ex, now, true);
}

int exporter_connection(const struct exporter *ex,
			struct sockaddr_storage *local,
			struct sockaddr_storage *peer, __u8 *protocol)
{
	socklen_t llen = sizeof(*local), plen = sizeof(*peer);

	if (ex->dest.kind == DEST_FILE || ex->tp.fd < 0 ||
	    getsockname(ex->tp.fd, (struct sockaddr *)local, &llen) ||
	    getpeername(ex->tp.fd, (struct sockaddr *)peer, &plen))
		return -ENOTCONN;
	*protocol = ex->dest.kind == DEST_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	return 0;
}

void exporter_get_stats(const struct exporter *ex, struct exporter_stats *st)
{
	*st = ex->st;
	st->send_errors = ex->tp.send_errors;
	st->connects = ex->tp.connects;
	st->queued = ex->q.count;
	st->connected = ex->tp.fd >= 0;
}

void exporter_close(struct exporter *ex)
{
	exporter_close_stats(ex, NULL);
}

void exporter_close_stats(struct exporter *ex, struct exporter_stats *st)
{
	time_t deadline = time(NULL) + CLOSE_WAIT_SEC;

	if (!ex)
		return;
	drain(ex, time(NULL), true);
	/* a TCP collector that is away gets a last few seconds */
	while (ex->q.count && time(NULL) < deadline) {
		usleep(200 * 1000);
		drain(ex, time(NULL), true);
	}
	if (ex->q.count) {
		ex->st.records_dropped += ex->q.count;
		pr_warn("collector %s: %llu records could not be delivered\n",
			ex->dest.text, (unsigned long long)ex->q.count);
	}
	pr_info("collector %s: %llu records in %llu messages (%llu octets), %llu dropped\n",
		ex->dest.text, (unsigned long long)ex->st.records,
		(unsigned long long)ex->st.messages,
		(unsigned long long)ex->st.octets,
		(unsigned long long)ex->st.records_dropped);
	if (st)
		exporter_get_stats(ex, st);
	transport_close(&ex->tp);
	ex->ops->destroy(ex->enc);
	queue_free(&ex->q);
	free(ex);
}
