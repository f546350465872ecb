package dev.braid.examples;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * Repeats an asynchronous step until it says stop, without a thread of its own and without recursion.
 *
 * <p>A Braid future attached to before it completes runs its continuation on a Braid event thread; attached to after
 * it completed (a read that found bytes already buffered, say), the continuation runs at once on the attaching thread.
 * A loop written as "continue from the continuation" would then recurse once per step and could overflow the stack on
 * a fast stream. This loop runs steps whose futures are already complete in a plain {@code while} loop, and resumes
 * from a continuation only when a step is still pending.
 *
 * <p>A pending step resumes the loop on the thread that completes its future: for a future Braid returned, or one
 * composed from Braid futures ({@code then*}, {@code thenCompose} included), a Braid event thread, never a transport's
 * I/O thread (docs/threads.md).
 */
final class AsyncLoop {
  private final Supplier<? extends CompletionStage<Boolean>> step;
  private final CompletableFuture<Void> done = new CompletableFuture<>();

  private AsyncLoop(Supplier<? extends CompletionStage<Boolean>> step) {
    this.step = step;
  }

  /**
   * Runs {@code step} (on the calling thread first), again and again while its future completes with {@code true}.
   * The returned future completes when a step completes with {@code false}, or exceptionally with the first failure
   * (a step's future failing, or {@code step} itself throwing).
   */
  static CompletableFuture<Void> run(Supplier<? extends CompletionStage<Boolean>> step) {
    AsyncLoop loop = new AsyncLoop(step);
    loop.resume();
    return loop.done;
  }

  private void resume() {
    try {
      while (true) {
        CompletableFuture<Boolean> f = step.get().toCompletableFuture();
        if (!f.isDone()) {
          f.whenComplete(this::afterPendingStep);
          return;
        }
        if (!f.join()) {
          done.complete(null);
          return;
        }
      }
    } catch (Throwable t) { // a failed step, or one that threw: the loop's result, never the caller's problem
      done.completeExceptionally(Errors.unwrap(t));
    }
  }

  private void afterPendingStep(Boolean more, Throwable failure) {
    if (failure != null) {
      done.completeExceptionally(Errors.unwrap(failure));
    } else if (Boolean.TRUE.equals(more)) {
      resume();
    } else {
      done.complete(null);
    }
  }
}
