// A run must stop cleanly on SIGINT/SIGTERM (exit 130) from its first instruction on, not be
// killed by one that comes while the process loads. Before main (a constructor, run once the
// libraries are loaded), `run` and `quarantine replay` note such a signal instead of dying of it;
// the run's handlers take it over (RunLifecycle in RunCommand.swift) and stop the run before
// its first batch. Other commands keep the default action.
#include <signal.h>
#include <string.h>
#include "memify_signals.h"

static volatile sig_atomic_t early_signal = 0;

static void note_signal(int number) { early_signal = number; }

__attribute__((constructor))
static void memify_hold_early_signals(int argc, char **argv, char **envp) {
    (void)envp;
    if (argc < 2 || argv == 0) return;
    int run = strcmp(argv[1], "run") == 0 || (argc >= 3 && strcmp(argv[1], "quarantine") == 0 && strcmp(argv[2], "replay") == 0);
    if (!run) return;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = note_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, 0);
    sigaction(SIGTERM, &action, 0);
}

int memify_take_early_signal(void) {
    int number = early_signal;
    early_signal = 0;
    return number;
}
