read 9223372036854775807 1
write -P 0x1g 0 1
"unterminated
read -m 4095 1 0x10
write -- -1 1
writev 1k 1k 1k
