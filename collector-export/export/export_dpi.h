/* SPDX-License-Identifier: GPL-2.0 */
/*
 * export_dpi.h - the -D results in IPFIX: the elements after a record's
 * template elements in the dpi templates, the information elements
 * libfixbuf's IANA model lacks (CERT's YAF elements under PEN 6871,
 * ipfixprobe's under 8057 and 39499), and the options record that maps
 * applicationId values to their names.
 */
#ifndef FLOWEXPORT_EXPORT_DPI_H
#define FLOWEXPORT_EXPORT_DPI_H

#include <fixbuf/public.h>
#include "record.h"

/* applicationId (IE 95, RFC 6759): classification engine 6
 * ("User-Defined") then a 3-byte selector, our enum dpi_app. */
#define DPI_APP_ENGINE 6
#define DPI_APP_ID_LEN 4
#define DPI_APP_NAME_LEN 16
#define DPI_APP_DESC_LEN 32

/* The applicationId bytes of an enum dpi_app (0: all zero). */
void export_dpi_app_id(__u8 app, __u8 out[DPI_APP_ID_LEN]);
/* Adds the enterprise elements to model (once). */
void export_dpi_model(fbInfoModel_t *model);
/* Appends the dpi elements to t (internal: libfixbuf's varfields). */
gboolean export_dpi_append(fbTemplate_t *t, GError **err);
/* The wire bytes of the dpi elements apart from the strings' contents:
 * fixed ones, and a 3-byte length prefix for each of the 7 strings. */
#define DPI_FIXED_WIRE (DPI_APP_ID_LEN + 2 + 2 + 1 + 2 + 2 + 4 + 7 * 3)
/* The internal bytes of the dpi elements of d at out; their length. The
 * strings take at most room bytes on the wire, all told. */
size_t export_dpi_put(const struct dpi_info *d, __u8 *out, size_t room);
/* Internal record length of the dpi elements. */
size_t export_dpi_host_len(void);

/* The application names options template (scope observationDomainId,
 * then applicationId, applicationName, applicationDescription, fixed
 * lengths: nfdump reads them at fixed offsets). */
extern const fbInfoElementSpec_t export_dpi_apps_spec[];
struct dpi_app_rec {
	__u32 domain;
	__u8 id[DPI_APP_ID_LEN];
	char name[DPI_APP_NAME_LEN];
	char desc[DPI_APP_DESC_LEN];
} __attribute__((packed));
void export_dpi_app_rec(__u32 domain, __u8 app, struct dpi_app_rec *r);

#endif
