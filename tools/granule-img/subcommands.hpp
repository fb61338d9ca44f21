// The subcommands of granule-img. Each runs like a program of its own:
// argv[0] is the subcommand's name (so getopt works), the result is the exit
// status: 0 success, 1 failure, 2 usage error (probe adds 3: a chosen value
// larger than the trial truth).
#pragma once

int info_command(int argc, char **argv);
int probe_command(int argc, char **argv);
int bench_command(int argc, char **argv);
int convert_command(int argc, char **argv);
int drivers_command(int argc, char **argv);
