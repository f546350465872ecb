package dev.braid.spi;

import java.util.ArrayList;
import java.util.List;

/**
 * Actions collected while a stream's lock is held and run, in order, after it is released: completing
 * futures, calling transport hooks. Not thread-safe: one per operation, on the operating thread.
 */
final class Deferred {
  private List<Runnable> actions;

  void add(Runnable r) {
    if (actions == null) {
      actions = new ArrayList<>(2);
    }
    actions.add(r);
  }

  void run() {
    if (actions != null) {
      for (Runnable r : actions) {
        r.run();
      }
    }
  }
}
