// SPDX-License-Identifier: GPL-2.0
/*
 * reload.c - SIGHUP: the configuration read again and applied to the
 * running meter (reload.h). Configurations read by reloads ("generations")
 * are kept while an exporter still uses one: an exporter's thread reads
 * its configuration for as long as it runs.
 */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <glib.h>
#include "cli.h"
#include "log.h"
#include "reload.h"

struct config *reload_init(struct reload *r, const struct config *started)
{
	memset(r, 0, sizeof(*r));
	r->live = *started;
	/* collectors without a group of their own are exported with the
	 * started configuration, which never changes, not with live */
	for (int i = 0; i < started->n_collectors; i++) {
		r->ex_cfg[i] = config_for_collector(started, i);
		r->live.collector_cfg[i] = (struct config *)r->ex_cfg[i];
	}
	r->gens = g_ptr_array_new();
	return &r->live;
}

static void gen_free(struct config *gen)
{
	config_release(gen);
	free(gen);
}

/* What the running pipeline was built with stays: say so, keep it. */
static void keep_fixed(const struct config *live, struct config *gen)
{
#define KEEP(field, what)                                                    \
	do {                                                                 \
		if (gen->field != live->field) {                             \
			pr_warn("reload: %s cannot change while running (restart to apply it); keeping the running value\n", \
				what);                                       \
			gen->field = live->field;                            \
		}                                                            \
	} while (0)
#define KEEP_STR(field, what)                                                \
	do {                                                                 \
		if (g_strcmp0(gen->field, live->field)) {                    \
			pr_warn("reload: %s cannot change while running (restart to apply it); keeping the running value\n", \
				what);                                       \
			gen->field = live->field;                            \
		}                                                            \
	} while (0)
	KEEP(share, "--share");
	KEEP(slot_mask, "-p/--protocols");
	KEEP(sample_rate, "--sample");
	KEEP(max_flows, "--max-flows");
	KEEP(kernel_flows, "--kernel-flows");
	KEEP(biflow, "--biflow");
	KEEP(json, "-j/--json");
	KEEP(interval, "-i/--interval");
	KEEP(dpi, "-D/--DPI");
	KEEP(decap, "--decap");
	KEEP_STR(pin_dir, "-F/--Folder");
	KEEP_STR(map_path, "-M/--Map");
#undef KEEP
#undef KEEP_STR
	gen->interval_given = live->interval_given;
	gen->share_given = live->share_given;
	gen->protocols_given = live->protocols_given;
	gen->kernel_flows_given = live->kernel_flows_given;
}

/* -L again, by name: logrotate moved the file (or the name changed). */
static void reopen_log(const struct config *gen)
{
	FILE *old = log_stream();
	int err;

	if (!gen->log_file) {
		log_close(); /* back to stderr */
		return;
	}
	err = log_open_file(gen->log_file);
	if (err) {
		pr_warn("reload: cannot open log file '%s': %s; logging on where it was\n",
			gen->log_file, strerror(-err));
		return;
	}
	if (old != stderr)
		fclose(old);
}

static int index_of(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

static void drop_iface(struct config *gen, int i)
{
	for (int j = i; j < gen->n_ifaces - 1; j++) {
		gen->ifnames[j] = gen->ifnames[j + 1];
		gen->modes[j] = gen->modes[j + 1];
	}
	gen->n_ifaces--;
}

/* Detach what gen leaves out, attach what it adds; gen ends up listing
 * exactly what is attached. Returns how many changed. */
static int apply_interfaces(struct config *live, const struct reload_target *t,
			    struct config *gen)
{
	int changed = 0;

	for (int i = 0; i < live->n_ifaces; i++) {
		const char *name = live->ifnames[i];
		int j = index_of(gen->ifnames, gen->n_ifaces, name);

		if (j >= 0) {
			if (gen->modes[j] != live->modes[i]) {
				pr_warn("reload: the mode of %s cannot change while running (restart to apply it); keeping the running one\n",
					name);
				gen->modes[j] = live->modes[i];
			}
			continue;
		}
		if (!pipeline_detach(t->p, name))
			pr_info("reload: %s is no longer metered (its flows are still exported)\n",
				name);
		iface_watch_forget(t->watch, name);
		changed++;
	}
	for (int j = 0; j < gen->n_ifaces; j++) {
		const char *name = gen->ifnames[j];
		struct pipeline_attach_opts o =
			pipeline_attach_opts_of(gen, j, t->link_dir);

		if (index_of(live->ifnames, live->n_ifaces, name) >= 0)
			continue;
		changed++;
		if (pipeline_attach(t->p, name, &o)) {
			pr_warn("reload: %s is left out (see above)\n", name);
			drop_iface(gen, j--);
			continue;
		}
		pr_info("reload: metering %s too\n", name);
	}
	return changed;
}

static bool same_ifaces(const struct config *a, const struct config *b)
{
	if (a->n_ifaces != b->n_ifaces)
		return false;
	for (int i = 0; i < a->n_ifaces; i++)
		if (strcmp(a->ifnames[i], b->ifnames[i]))
			return false;
	return true;
}

/* An exporter opened with a can go on for b: every setting an exporter
 * reads is the same (the interfaces too: its options records name them). */
static bool same_export(const struct config *a, const struct config *b)
{
	return a->format == b->format &&
	       a->observation_domain == b->observation_domain &&
	       !g_strcmp0(a->template_name, b->template_name) &&
	       a->biflow == b->biflow &&
	       a->template_refresh_sec == b->template_refresh_sec &&
	       a->template_refresh_msgs == b->template_refresh_msgs &&
	       a->max_message_size == b->max_message_size &&
	       a->options_interval == b->options_interval &&
	       a->export_buffer_records == b->export_buffer_records &&
	       a->udp_rate == b->udp_rate && a->sample_rate == b->sample_rate &&
	       same_ifaces(a, b);
}

struct collector_change {
	int kept, opened, closed;
};

/*
 * The exporters gen asks for: unchanged ones go on, others are opened;
 * then the sink switches over and closes (flushing) those left. Nothing
 * is exported while this runs (same thread as the drains), so no record
 * goes to the old set and the new one alike, or to neither.
 */
static int apply_collectors(struct reload *r, const struct reload_target *t,
			    const struct config *gen,
			    struct collector_change *cc)
{
	const struct config *live = &r->live, *cfg[MAX_COLLECTORS];
	struct exporter *ex[MAX_COLLECTORS];
	bool taken[MAX_COLLECTORS] = { false };
	int err = 0, i;

	memset(cc, 0, sizeof(*cc));
	for (i = 0; i < gen->n_collectors; i++) {
		cfg[i] = config_for_collector(gen, i);
		ex[i] = NULL;
		for (int j = 0; j < t->sink->n_ex && !ex[i]; j++) {
			if (taken[j] || strcmp(live->collectors[j], gen->collectors[i]) ||
			    !same_export(r->ex_cfg[j], cfg[i]))
				continue;
			taken[j] = true;
			ex[i] = t->sink->ex[j];
			cfg[i] = r->ex_cfg[j];
			cc->kept++;
		}
		if (ex[i])
			continue;
		ex[i] = exporter_open(cfg[i], gen->collectors[i]);
		if (!ex[i]) {
			err = errno ? -errno : -EINVAL;
			pr_warn("reload: cannot export to '%s' (see above); the running collectors stay as they were\n",
				gen->collectors[i]);
			break;
		}
		cc->opened++;
	}
	if (err) {
		for (int k = 0; k < i; k++) {
			bool old = false;

			for (int j = 0; j < t->sink->n_ex; j++)
				old = old || ex[k] == t->sink->ex[j];
			if (!old)
				exporter_close(ex[k]);
		}
		return err;
	}
	cc->closed = t->sink->n_ex - cc->kept;
	sink_replace_exporters(t->sink, ex, gen->n_collectors);
	memset(r->ex_cfg, 0, sizeof(r->ex_cfg));
	memcpy(r->ex_cfg, cfg, gen->n_collectors * sizeof(cfg[0]));
	return 0;
}

/* The collectors stay as they run: gen says so too. */
static void keep_collectors(const struct config *live, struct config *gen)
{
	for (int i = 0; i < MAX_COLLECTORS; i++) {
		free(gen->collector_cfg[i]);
		gen->collector_cfg[i] = NULL;
	}
	for (int i = 0; i < live->n_collectors; i++)
		gen->collectors[i] = config_keep(gen, live->collectors[i]);
	gen->n_collectors = live->n_collectors;
	gen->balance = live->balance;
}

static bool gen_in_use(const struct reload *r, const struct config *gen)
{
	for (int i = 0; i < MAX_COLLECTORS; i++) {
		if (!r->ex_cfg[i])
			continue;
		if (r->ex_cfg[i] == gen)
			return true;
		for (int j = 0; j < MAX_COLLECTORS; j++)
			if (r->ex_cfg[i] == gen->collector_cfg[j])
				return true;
	}
	return false;
}

/* Generations no exporter uses, except the newest (live's strings). */
static void free_unused(struct reload *r)
{
	for (guint i = 0; i + 1 < r->gens->len;) {
		struct config *g = g_ptr_array_index(r->gens, i);

		if (gen_in_use(r, g)) {
			i++;
			continue;
		}
		gen_free(g);
		g_ptr_array_remove_index(r->gens, i);
	}
}

/*
 * The command line and the file again. What the parser says on stderr
 * goes to the log (-L, where a daemon's operator looks): fd 2 points at a
 * memory file meanwhile (an fd swap, so a thread that writes to stderr
 * then is only logged too).
 */
static int parse_to_log(const struct reload *r, struct config *gen)
{
	char text[4096];
	int mem, saved, err;
	ssize_t len;

	mem = memfd_create("flowexport-reload", MFD_CLOEXEC);
	saved = mem < 0 ? -1 : dup(STDERR_FILENO);
	if (saved < 0 || dup2(mem, STDERR_FILENO) < 0) {
		if (saved >= 0)
			close(saved);
		if (mem >= 0)
			close(mem);
		return cli_parse_again(r->live.argc, r->live.argv, gen);
	}
	err = cli_parse_again(r->live.argc, r->live.argv, gen);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	len = pread(mem, text, sizeof(text) - 1, 0);
	close(mem);
	text[len > 0 ? len : 0] = '\0';
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		pr_warn("reload: %s\n", strncmp(line, "flowexport: ", 12) ?
			line : line + 12);
	return err;
}

int reload_apply(struct reload *r, const struct reload_target *t)
{
	struct collector_change cc;
	struct config *gen = calloc(1, sizeof(*gen));
	int err, ifaces;

	if (!gen)
		return -ENOMEM;
	pr_info("SIGHUP: reading the configuration again\n");
	err = parse_to_log(r, gen);
	if (err) {
		pr_warn("reload: the configuration is refused; the running one is kept\n");
		gen_free(gen);
		return -EINVAL;
	}
	keep_fixed(&r->live, gen);
	reopen_log(gen); /* first: what follows goes to the new file */
	ifaces = apply_interfaces(&r->live, t, gen);
	if (apply_collectors(r, t, gen, &cc)) {
		keep_collectors(&r->live, gen);
		memset(&cc, 0, sizeof(cc));
		cc.kept = gen->n_collectors;
	}
	g_ptr_array_add(r->gens, gen);
	r->live = *gen;
	free_unused(r);
	log_init(r->live.verbosity == 0 ? LOG_LEVEL_WARN :
		 r->live.verbosity == 2 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	err = output_reopen(t->sink->out);
	if (err)
		pr_warn("reload: cannot open the output files again: %s\n",
			strerror(-err));
	pr_info("reloaded: %d interface(s) (%d changed), %d collector(s) (%d kept, %d opened, %d closed); flows expire after %u s idle, reported every %u s while active\n",
		r->live.n_ifaces, ifaces, r->live.n_collectors, cc.kept,
		cc.opened, cc.closed, r->live.idle_timeout,
		r->live.active_timeout);
	return 0;
}

void reload_free(struct reload *r)
{
	if (!r->gens)
		return;
	for (guint i = 0; i < r->gens->len; i++)
		gen_free(g_ptr_array_index(r->gens, i));
	g_ptr_array_free(r->gens, TRUE);
	r->gens = NULL;
}
