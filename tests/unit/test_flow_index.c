// SPDX-License-Identifier: GPL-2.0
/*
 * test_flow_index - the flow cache's index (cache/flow_index.c) against a
 * plain array: random adds, removes and lookups over a key space larger
 * than the index holds at once, through growth, removed places, shrinking
 * and clearing; every key found exactly when it is in, each item once in
 * a walk, and a key's first candidate its item when hashes do not collide.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "flow_index.h"
#include "tap.h"

#define KEYS 60000

struct item {
	struct flow_key key; /* first, as the flow cache's entries */
	int in;
};

static struct item items[KEYS];

static void count_item(void *item, void *ctx)
{
	struct item *it = item;

	(*(size_t *)ctx)++;
	CHECK(it->in == 1, "a walk gave an item that is not in (or twice)");
	it->in = 2;
}

static void reset_walk(void)
{
	for (int i = 0; i < KEYS; i++)
		if (items[i].in == 2)
			items[i].in = 1;
}

static void check_all(struct flow_index *x, size_t want, const char *when)
{
	size_t walked = 0;

	for (int i = 0; i < KEYS; i++) {
		void *got = flow_index_find(x, &items[i].key);

		CHECK(got == (items[i].in ? &items[i] : NULL),
		      "%s: key %d found %p, in %d", when, i, got, items[i].in);
	}
	CHECK_EQ("count", flow_index_count(x), want);
	flow_index_for_each(x, count_item, &walked);
	reset_walk();
	CHECK_EQ("items walked", walked, want);
}

int main(void)
{
	struct flow_index *x = flow_index_new();
	size_t in = 0;

	srand(8);
	for (int i = 0; i < KEYS; i++) {
		/* keys that differ in one field each, as flows often do */
		items[i].key.ip_version = 4;
		items[i].key.protocol = 17;
		items[i].key.src_addr[12 + i % 4] = i;
		items[i].key.src_port = i;
		items[i].key.dst_port = i / 65536;
	}
	CHECK(x != NULL, "no index");
	for (int round = 0; x && round < 3; round++) {
		/* fill to about 40k, then churn, then drain to a few */
		for (int op = 0; op < 400000; op++) {
			int i = rand() % KEYS;
			bool drain = op > 250000;

			if (!items[i].in && (!drain || rand() % 8 == 0)) {
				CHECK(flow_index_add(x, &items[i]) == 0, "add %d", i);
				items[i].in = 1;
				in++;
			} else if (items[i].in && (drain || rand() % 3 == 0)) {
				flow_index_remove(x, &items[i]);
				items[i].in = 0;
				in--;
			}
			if (op % 100000 == 99999)
				check_all(x, in, "churn");
		}
		check_all(x, in, "drained");
		for (int i = 0; i < KEYS; i++) {
			__u32 h = flow_index_hash(&items[i].key);
			void *c = flow_index_candidate(x, h);

			CHECK(!items[i].in || c, "key %d in, no candidate", i);
			CHECK(items[i].in || !c || memcmp(c, &items[i].key, sizeof(items[i].key)),
			      "key %d out, its candidate has its key", i);
		}
		flow_index_clear(x);
		for (int i = 0; i < KEYS; i++)
			items[i].in = 0;
		in = 0;
		check_all(x, 0, "cleared");
	}
	tap_result("flow index: adds, removes, lookups, walks, shrink and clear agree with a plain array");
	flow_index_free(x);
	return tap_failed_cases ? 1 : 0;
}
