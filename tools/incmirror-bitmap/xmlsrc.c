// SPDX-License-Identifier: GPL-2.0
/* libxml2 streaming reader glue shared by the era and thin parsers. */
#include <inttypes.h>
#include <string.h>

#include "common.h"
#include "xmlsrc.h"

static int xread(void *ctx, char *buf, int len)
{
	struct xsrc *x = ctx;
	long r = src_read_some(x->s, buf, (size_t)len, x->pos);

	if (r < 0)
		return -1;
	x->pos += (uint64_t)r;
	return (int)r;
}

static int xclose(void *ctx)
{
	(void)ctx;
	return 0;
}

static void xerr(void *arg, const char *msg, xmlParserSeverities sev, xmlTextReaderLocatorPtr loc)
{
	struct xsrc *x = arg;
	size_t l = strlen(msg);

	if (sev == XML_PARSER_SEVERITY_VALIDITY_WARNING || sev == XML_PARSER_SEVERITY_WARNING)
		return;
	if (x->failed++)
		return;		/* first error only */
	while (l && (msg[l - 1] == '\n' || msg[l - 1] == ' '))
		l--;
	err_line(x->s->name, (uint64_t)xmlTextReaderLocatorLineNumber(loc), "malformed XML: %.*s", (int)l, msg);
}

int xsrc_open(struct xsrc *x, const struct src *s)
{
	memset(x, 0, sizeof(*x));
	x->s = s;
	x->r = xmlReaderForIO(xread, xclose, x, NULL, NULL,
			      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS);
	if (!x->r) {
		err_msg("%s: cannot create an XML reader", s->name);
		return EXIT_SYSTEM;
	}
	xmlTextReaderSetErrorHandler(x->r, xerr, x);
	return 0;
}

void xsrc_close(struct xsrc *x)
{
	if (x->r)
		xmlFreeTextReader(x->r);
	x->r = NULL;
}

unsigned long xsrc_line(struct xsrc *x)
{
	/* the element's own line; the parser itself may have read ahead */
	xmlNodePtr n = xmlTextReaderCurrentNode(x->r);
	long l = n ? xmlGetLineNo(n) : -1;

	return l > 0 ? (unsigned long)l : (unsigned long)xmlTextReaderGetParserLineNumber(x->r);
}

int xsrc_next(struct xsrc *x)
{
	int r = xmlTextReaderRead(x->r);

	if (r < 0 || x->failed) {
		if (!x->failed)
			err_line(x->s->name, xsrc_line(x), "malformed XML");
		return -1;
	}
	return r;
}

int xsrc_attr_u64(struct xsrc *x, const char *elem, const char *attr, uint64_t *out)
{
	xmlChar *v = xmlTextReaderGetAttribute(x->r, (const xmlChar *)attr);
	int bad;

	if (!v) {
		err_line(x->s->name, xsrc_line(x), "<%s>: expected attribute %s", elem, attr);
		return EXIT_INPUT;
	}
	bad = parse_u64((const char *)v, out);
	if (bad)
		err_line(x->s->name, xsrc_line(x), "<%s>: expected an unsigned decimal %s, found \"%.40s\"", elem,
			 attr, (const char *)v);
	xmlFree(v);
	return bad ? EXIT_INPUT : 0;
}

int xsrc_check_attrs(struct xsrc *x, const char *elem, const char *const *allowed)
{
	int r = 0;

	if (xmlTextReaderMoveToFirstAttribute(x->r) != 1)
		return 0;
	do {
		const char *n = (const char *)xmlTextReaderConstName(x->r);
		bool ok = false;

		for (const char *const *a = allowed; *a; a++)
			if (n && !strcmp(n, *a))
				ok = true;
		if (!ok) {
			err_line(x->s->name, xsrc_line(x), "<%s>: unexpected attribute %s", elem, n ? n : "?");
			r = EXIT_INPUT;
			break;
		}
	} while (xmlTextReaderMoveToNextAttribute(x->r) == 1);
	xmlTextReaderMoveToElement(x->r);
	return r;
}
