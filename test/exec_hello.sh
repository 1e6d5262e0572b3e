#!/bin/sh
# The hello protocol as a Handler exec program in shell (hellod.8's
# worked example); the client's address comes in the environment.
echo "welcome!"
while IFS= read -r name; do
	name=${name%"$(printf '\r')"}
	[ "$name" = exit ] && break
	echo "hello, $name!"
	echo "$TCPREMOTEIP said $name" >&2
done
