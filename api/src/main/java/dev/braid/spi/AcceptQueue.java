package dev.braid.spi;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The hand-over between a listener's inbound connections and its callers of {@code accept()}: a bounded
 * queue of connections that are ready but not yet accepted, and a queue of {@code accept()} futures still
 * waiting for one. A transport's listener {@linkplain #offer offers} each connection once its setup is
 * done, returns {@link #accept()} from {@code Listener.accept()} and calls {@link #close} from
 * {@code Listener.close()}.
 *
 * <ul>
 *   <li>An offered item goes to the oldest waiting {@code accept()} future; with none waiting it is queued,
 *       up to {@code capacity} items. An item offered beyond the capacity, or after close, is rejected: it
 *       is handed to the {@code discard} action (which closes it) and {@code offer} returns false.
 *   <li>An {@code accept()} future that ends on its own (cancelled by its caller, or timed out with
 *       {@link CompletableFuture#orTimeout}) leaves the queue at once and is never handed an item, so no
 *       connection is lost to an abandoned accept and abandoned accepts do not pile up.
 *   <li>{@link #close} fails every waiting future with an exception from the given supplier (a fresh one
 *       for each future), discards every queued item, and makes later {@code accept()} calls fail the same
 *       way. Every offered item therefore ends exactly once: handed to one future, or discarded.
 * </ul>
 *
 * <p><b>Thread safety.</b> Thread-safe. Futures are completed, and the discard action runs, on the calling
 * thread after the queue's lock is released, so their dependents may call back into the queue (or take
 * the transport's own locks) freely. A discard action that throws a {@link RuntimeException} is logged and
 * the remaining items are still discarded.
 *
 * @param <T> the kind of item, usually the transport's connection
 */
public final class AcceptQueue<T> {
  private static final System.Logger LOG = System.getLogger(AcceptQueue.class.getName());

  private final int capacity;
  private final Consumer<? super T> discard;
  private final Object lock = new Object();
  private final ArrayDeque<T> ready = new ArrayDeque<>(); // guarded by lock
  private final ArrayDeque<CompletableFuture<T>> waiting = new ArrayDeque<>(); // guarded by lock
  private Supplier<? extends Throwable> closedCause; // guarded by lock; non-null once closed

  /**
   * @param capacity how many items may wait for {@code accept()} at most (0: items are only handed to
   *     accepts already waiting); {@link Integer#MAX_VALUE} for no bound
   * @param discard what to do with an item that will never be accepted (rejected, or queued at close):
   *     usually closing the connection
   */
  public AcceptQueue(int capacity, Consumer<? super T> discard) {
    if (capacity < 0) {
      throw new IllegalArgumentException("capacity must not be negative, was " + capacity);
    }
    this.capacity = capacity;
    this.discard = Objects.requireNonNull(discard, "discard");
  }

  /**
   * Hands {@code item} to the oldest waiting {@code accept()}, or queues it.
   *
   * @return true if the item was handed over or queued; false if it was rejected (the queue is closed,
   *     or {@code capacity} items already wait) and passed to the discard action
   */
  public boolean offer(T item) {
    Objects.requireNonNull(item, "item");
    while (true) {
      CompletableFuture<T> w;
      synchronized (lock) {
        w = waiting.poll();
        if (w == null) {
          if (closedCause == null && ready.size() < capacity) {
            ready.add(item);
            return true;
          }
          break;
        }
      }
      if (w.complete(item)) {
        return true;
      }
      // w ended on its own between our poll and complete (its removal found it already polled): next one.
    }
    discard(item);
    return false;
  }

  /**
   * The oldest queued item, or a future completed by the next {@link #offer}; after {@link #close}, a future
   * failed with the close cause. The caller may cancel the future (or let it time out); an item is then
   * kept for the next {@code accept()}.
   */
  public CompletableFuture<T> accept() {
    BraidFuture<T> f;
    synchronized (lock) {
      T item = ready.poll();
      if (item != null) {
        return BraidFuture.completed(item);
      }
      if (closedCause != null) {
        return BraidFuture.failed(closedCause.get());
      }
      f = new BraidFuture<>();
      waiting.add(f);
    }
    f.whenCompleteInline((item, err) -> {
      if (err != null) { // cancelled, timed out or failed by its owner (or by close: then no longer queued)
        synchronized (lock) {
          waiting.remove(f);
        }
      }
    });
    return f;
  }

  /**
   * Closes the queue: fails every waiting {@code accept()} future with {@code cause.get()} (one exception
   * per future), discards every queued item, and rejects later offers. Later {@code accept()} calls fail
   * with {@code cause.get()} too. Idempotent: only the first call acts.
   *
   * @return true if this call closed the queue, false if it was already closed
   */
  public boolean close(Supplier<? extends Throwable> cause) {
    return close(cause, () -> { });
  }

  /**
   * As {@link #close(Supplier)}, running {@code beforeNotifying} (only on the first call) after the queue is
   * closed, so that {@code accept()} already fails and offers are rejected, but before any waiting future
   * fails or any queued item is discarded: the place to release what the listener holds (its port), so
   * that a caller told of the close finds it released. The futures fail and the items are discarded even
   * if {@code beforeNotifying} throws; its exception is then rethrown.
   */
  public boolean close(Supplier<? extends Throwable> cause, Runnable beforeNotifying) {
    Objects.requireNonNull(cause, "cause");
    Objects.requireNonNull(beforeNotifying, "beforeNotifying");
    List<CompletableFuture<T>> pending;
    List<T> unaccepted;
    synchronized (lock) {
      if (closedCause != null) {
        return false;
      }
      closedCause = cause;
      pending = new ArrayList<>(waiting);
      waiting.clear();
      unaccepted = new ArrayList<>(ready);
      ready.clear();
    }
    try {
      beforeNotifying.run();
    } finally {
      for (CompletableFuture<T> f : pending) {
        f.completeExceptionally(cause.get());
      }
      for (T item : unaccepted) {
        discard(item);
      }
    }
    return true;
  }

  /**
   * Takes {@code item} out of the queue if it is still waiting for {@code accept()} (for example a
   * connection that ended before anyone accepted it), without discarding it.
   *
   * @return true if the item was queued and is no longer
   */
  public boolean remove(T item) {
    synchronized (lock) {
      return ready.remove(item);
    }
  }

  /** Whether {@link #close} was called. */
  public boolean isClosed() {
    synchronized (lock) {
      return closedCause != null;
    }
  }

  /** How many items wait for {@code accept()} now. */
  public int queued() {
    synchronized (lock) {
      return ready.size();
    }
  }

  /** How many {@code accept()} futures wait for an item now. */
  public int waiting() {
    synchronized (lock) {
      return waiting.size();
    }
  }

  private void discard(T item) {
    try {
      discard.accept(item);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "discarding unaccepted " + item + " failed", e);
    }
  }
}
