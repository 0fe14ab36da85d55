#ifndef MEMIFY_SIGNALS_H
#define MEMIFY_SIGNALS_H

/// The SIGINT or SIGTERM a run caught before its handlers were installed (0: none), cleared.
int memify_take_early_signal(void);

#endif
