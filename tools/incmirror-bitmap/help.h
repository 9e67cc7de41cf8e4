/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --help texts. Documentation/incmirror-bitmap.rst carries the same text
 * between ".. help-begin NAME" / ".. help-end NAME" markers; tests/unit
 * checks that the two match (tests/unit/test-help.sh).
 */
#ifndef IMB_HELP_H
#define IMB_HELP_H

#define HELP_INPUT_OPTIONS \
"Input options:\n" \
"  -f, --format FMT        input format, default: detected. One of qcow2, nbd,\n" \
"                          era, thin, rbd-json, rbd-diff, rbd-export-diff, md,\n" \
"                          dm-snapshot, ranges, raw, canonical\n" \
"  -n, --name NAME         qcow2: the bitmap to read (needed if there are several)\n" \
"      --force             accept an inconsistent qcow2, a stale md bitmap or an\n" \
"                          invalid dm-snapshot, treating the whole device as\n" \
"                          dirty\n" \
"      --allow-empty       accept an input that lists no change, or an empty\n" \
"                          one (refused by default: a failed command leaves one)\n" \
"  -g, --granularity SIZE  bytes per input unit (era block, raw bitmap bit)\n" \
"      --table LINE        an era, thin-pool or thin table line giving the\n" \
"                          block size and/or the device size\n" \
"      --bit-order lsb|msb raw: bit order within each byte (default lsb)\n" \
"      --units bytes|sectors\n" \
"                          ranges: unit of OFFSET and LENGTH (default bytes)\n" \
"      --offset [-]SIZE    input byte SIZE is device byte 0 (default 0)\n"

#define HELP_SIZE_MISMATCH \
"      --size-mismatch error|truncate|extend\n" \
"                          an input describing a device of another size is\n" \
"                          refused (error, the default); truncate: drop what\n" \
"                          lies beyond the device, regions the input does not\n" \
"                          cover are clean; extend: the same but regions the\n" \
"                          input does not cover are dirty\n"

#define HELP_COMMON_TAIL \
"  -v, --verbose           report counts and timings on standard error\n" \
"  -h, --help              show this help\n"

#define HELP_MAIN \
"Usage: incmirror-bitmap COMMAND [OPTIONS] ARGS...\n" \
"Turn change-tracking data into dm-incmirror dirty bitmaps.\n" \
"\n" \
"Commands:\n" \
"  convert INPUT...        union and rescale inputs, write messages, a\n" \
"                          canonical bitmap file or a range list\n" \
"  load DEVICE INPUT...    load inputs into a live incmirror device\n" \
"  save DEVICE -o FILE     save a live device's dirty map to a canonical file\n" \
"  info FILE...            describe inputs\n" \
"\n" \
"Run 'incmirror-bitmap COMMAND --help' for the options of a command.\n" \
"  -V, --version           show the version\n"

#define HELP_CONVERT \
"Usage: incmirror-bitmap convert [OPTIONS] INPUT...\n" \
"Read INPUTs (\"-\" is standard input), union them, rescale to the region size\n" \
"and write the result.\n" \
"\n" \
HELP_INPUT_OPTIONS \
"Output options:\n" \
"  -r, --region-size SIZE  region size in bytes, a power of two from 4096 to 1G\n" \
"      --region-sectors N  region size in 512-byte sectors\n" \
"  -s, --device-size SIZE  size of the mirrored device in bytes\n" \
HELP_SIZE_MISMATCH \
"  -O, --output-format messages|canonical|ranges\n" \
"                          default messages\n" \
"      --dm-name NAME      messages: print whole dmsetup command lines\n" \
"      --max-message SIZE  messages: longest message in bytes (default 64K)\n" \
"  -o, --output FILE       write to FILE instead of standard output\n" \
HELP_COMMON_TAIL

#define HELP_LOAD \
"Usage: incmirror-bitmap load [OPTIONS] DEVICE INPUT...\n" \
"Mark the regions changed according to INPUTs dirty in the live incmirror\n" \
"DEVICE (a device-mapper name or node); region size and device size are read\n" \
"from its table.\n" \
"\n" \
HELP_INPUT_OPTIONS \
"Load options:\n" \
HELP_SIZE_MISMATCH \
"      --start             send start after loading\n" \
"      --max-message SIZE  longest message in bytes (default 64K)\n" \
HELP_COMMON_TAIL

#define HELP_SAVE \
"Usage: incmirror-bitmap save [OPTIONS] DEVICE -o FILE\n" \
"Write the dirty map of the live incmirror DEVICE to a canonical bitmap FILE.\n" \
"Pause the mirror (and stop writers) first for a consistent copy.\n" \
"\n" \
"  -o, --output FILE       the canonical file to write (replaced atomically)\n" \
HELP_COMMON_TAIL

#define HELP_INFO \
"Usage: incmirror-bitmap info [OPTIONS] FILE...\n" \
"Describe each input: format, device size, granularity, dirty extents and\n" \
"bytes, and for qcow2 the bitmaps in the image with their flags.\n" \
"\n" \
HELP_INPUT_OPTIONS \
"      --json              one JSON array of objects, one per FILE\n" \
HELP_COMMON_TAIL

#endif
