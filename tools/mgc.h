/* mgc.h: the subcommands of the `mgc` command line, one file each (run.c, compile.c,
 * dump.c, info.c, synth.c, ops_help.c), dispatched by mgc.c. Each takes the arguments after its name and
 * returns the process exit code; errors go to stderr as "mgc <cmd>: <message>". */
#ifndef MGC_H
#define MGC_H

int mgc_run(int argc, char **argv);
int mgc_compile(int argc, char **argv);
int mgc_dump(int argc, char **argv);
int mgc_info(int argc, char **argv);
int mgc_synth(int argc, char **argv);
int mgc_ops(int argc, char **argv);

#endif
