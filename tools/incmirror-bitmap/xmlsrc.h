/* SPDX-License-Identifier: GPL-2.0 */
/* libxml2 streaming reader over a src, with errors reported as FILE: line N. */
#ifndef IMB_XMLSRC_H
#define IMB_XMLSRC_H

#include <libxml/xmlreader.h>

#include "src.h"

struct xsrc {
	const struct src *s;
	uint64_t pos;
	xmlTextReaderPtr r;
	int failed;		/* an XML error was reported */
};

int xsrc_open(struct xsrc *x, const struct src *s);	/* 0 or EXIT_* */
void xsrc_close(struct xsrc *x);
/* next node: 1 = node, 0 = end of document, -1 = error (reported) */
int xsrc_next(struct xsrc *x);
unsigned long xsrc_line(struct xsrc *x);
/* required unsigned decimal attribute; returns 0 or EXIT_INPUT (reported) */
int xsrc_attr_u64(struct xsrc *x, const char *elem, const char *attr, uint64_t *out);
/* reject an element with attributes not in the NULL-terminated list */
int xsrc_check_attrs(struct xsrc *x, const char *elem, const char *const *allowed);

#endif
