/*
 * fuzz_config: libFuzzer entry for the configuration parser.  Each
 * input is one configuration line; the parser must reject or apply it
 * without reading past it, and leave the struct self-consistent.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hellod.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cf;
	char line[4096], err[512];

	if (size >= sizeof(line))
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	cf_defaults(&cf);
	if (cf_line(&cf, line, err, sizeof(err)) == -1 && err[0] == '\0')
		abort();	/* every refusal must say why */
	if (cf.cf_nlisten < 0 || cf.cf_nlisten > MAX_LISTEN)
		abort();
	return 0;
}
