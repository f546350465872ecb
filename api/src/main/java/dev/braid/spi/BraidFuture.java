package dev.braid.spi;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The future Braid hands to applications: it may be completed on a transport's I/O thread, but no dependent
 * action an application attaches ever runs there.
 *
 * <p>Braid's thread contract (SPEC.md, "Threads") in one class:
 * <ul>
 *   <li>A thread blocked in {@link #get()} or {@link #join()} is woken directly by the completing thread: the
 *       blocking views and blocking callers pay no thread hop.</li>
 *   <li>A dependent action (the non-async {@code then*}, {@code handle}, {@code whenComplete},
 *       {@code exceptionally*} methods) attached before completion runs on a Braid event thread
 *       ({@link BraidThreads#events()}, an unbounded pool of daemon threads), never on the completing thread.
 *       So a continuation may block, even on another stream of the same connection, without stalling the
 *       transport. Attached after completion, it runs at once on the attaching thread, as
 *       {@link CompletableFuture} defines.</li>
 *   <li>The {@code *Async} methods without an executor use the same event threads.</li>
 *   <li>Dependent futures are plain {@link CompletableFuture}s completed on those event threads.</li>
 *   <li>The fast path is an explicit opt-in, as in Netty: an {@code *Async} method with a direct executor
 *       ({@code whenCompleteAsync(action, Runnable::run)}) runs on the completing thread, possibly a transport I/O
 *       thread, and saves the hand-off (10-25 µs here); such an action must never block or wait for another
 *       future.</li>
 * </ul>
 *
 * <p>Transports return these from {@code Transport.dial}, {@code Listener.accept} and anything else that
 * reaches an application, usually through {@link #relay(CompletionStage)}.
 *
 * <p><b>Thread safety.</b> Thread-safe, as {@link CompletableFuture}.
 *
 * @param <T> the result type
 */
public final class BraidFuture<T> extends CompletableFuture<T> {
  private static final Executor EVENTS = BraidThreads.events();

  /** An incomplete future. */
  public BraidFuture() {}

  /** A future that completes as {@code stage} does, with the same result or failure. */
  public static <T> BraidFuture<T> relay(CompletionStage<? extends T> stage) {
    Objects.requireNonNull(stage, "stage");
    BraidFuture<T> f = new BraidFuture<>();
    stage.whenComplete((v, e) -> {
      if (e != null) {
        f.completeExceptionally(e instanceof java.util.concurrent.CompletionException && e.getCause() != null
            ? e.getCause() : e);
      } else {
        f.complete(v);
      }
    });
    return f;
  }

  /** A future already completed with {@code value}. */
  public static <T> BraidFuture<T> completed(T value) {
    BraidFuture<T> f = new BraidFuture<>();
    f.complete(value);
    return f;
  }

  /** A future already completed exceptionally with {@code error}. */
  public static <T> BraidFuture<T> failed(Throwable error) {
    BraidFuture<T> f = new BraidFuture<>();
    f.completeExceptionally(error);
    return f;
  }

  /** Braid's own bookkeeping: runs {@code action} on the completing thread. Never for application code. */
  void whenCompleteInline(BiConsumer<? super T, ? super Throwable> action) {
    super.whenComplete(action);
  }

  @Override
  public <U> CompletableFuture<U> newIncompleteFuture() {
    return new CompletableFuture<>();
  }

  @Override
  public Executor defaultExecutor() {
    return EVENTS;
  }

  @Override
  public CompletableFuture<T> copy() {
    return thenApply(Function.identity());
  }

  /**
   * This future, once it is complete; until then a future that completes as this one does, on a Braid event thread.
   *
   * <p>Another {@link CompletableFuture} that depends on this one goes through here: {@code thenCompose} when its
   * function returns this future, and the {@code other} of {@code thenCombine}, {@code applyToEither} and their
   * kin. The JDK then completes the dependent future on the thread that completes this one, often a transport's I/O
   * thread, and the application's continuations of that dependent future would run there
   * ({@code s.write(b).thenCompose(v -> s.closeWrite()).thenAccept(...)}; kit rule T1). So, while this future is
   * incomplete, the returned one is a copy that cancelling or completing does not reach back from.
   */
  @Override
  public CompletableFuture<T> toCompletableFuture() {
    return isDone() ? this : super.whenCompleteAsync((v, e) -> { }, EVENTS);
  }

  @Override
  public CompletionStage<T> minimalCompletionStage() {
    return copy().minimalCompletionStage();
  }

  @Override
  public <U> CompletableFuture<U> thenApply(Function<? super T, ? extends U> fn) {
    return isDone() ? super.thenApply(fn) : super.thenApplyAsync(fn, EVENTS);
  }

  @Override
  public CompletableFuture<Void> thenAccept(Consumer<? super T> action) {
    return isDone() ? super.thenAccept(action) : super.thenAcceptAsync(action, EVENTS);
  }

  @Override
  public CompletableFuture<Void> thenRun(Runnable action) {
    return isDone() ? super.thenRun(action) : super.thenRunAsync(action, EVENTS);
  }

  @Override
  public <U, V> CompletableFuture<V> thenCombine(CompletionStage<? extends U> other,
      BiFunction<? super T, ? super U, ? extends V> fn) {
    return super.thenCombineAsync(other, fn, EVENTS);
  }

  @Override
  public <U> CompletableFuture<Void> thenAcceptBoth(CompletionStage<? extends U> other,
      BiConsumer<? super T, ? super U> action) {
    return super.thenAcceptBothAsync(other, action, EVENTS);
  }

  @Override
  public CompletableFuture<Void> runAfterBoth(CompletionStage<?> other, Runnable action) {
    return super.runAfterBothAsync(other, action, EVENTS);
  }

  @Override
  public <U> CompletableFuture<U> applyToEither(CompletionStage<? extends T> other, Function<? super T, U> fn) {
    return super.applyToEitherAsync(other, fn, EVENTS);
  }

  @Override
  public CompletableFuture<Void> acceptEither(CompletionStage<? extends T> other, Consumer<? super T> action) {
    return super.acceptEitherAsync(other, action, EVENTS);
  }

  @Override
  public CompletableFuture<Void> runAfterEither(CompletionStage<?> other, Runnable action) {
    return super.runAfterEitherAsync(other, action, EVENTS);
  }

  @Override
  public <U> CompletableFuture<U> thenCompose(Function<? super T, ? extends CompletionStage<U>> fn) {
    return isDone() ? super.thenCompose(fn) : super.thenComposeAsync(fn, EVENTS);
  }

  @Override
  public <U> CompletableFuture<U> handle(BiFunction<? super T, Throwable, ? extends U> fn) {
    return isDone() ? super.handle(fn) : super.handleAsync(fn, EVENTS);
  }

  @Override
  public CompletableFuture<T> whenComplete(BiConsumer<? super T, ? super Throwable> action) {
    return isDone() ? super.whenComplete(action) : super.whenCompleteAsync(action, EVENTS);
  }

  @Override
  public CompletableFuture<T> exceptionally(Function<Throwable, ? extends T> fn) {
    return isDone() ? super.exceptionally(fn) : super.exceptionallyAsync(fn, EVENTS);
  }

  @Override
  public CompletableFuture<T> exceptionallyCompose(Function<Throwable, ? extends CompletionStage<T>> fn) {
    return isDone() ? super.exceptionallyCompose(fn) : super.exceptionallyComposeAsync(fn, EVENTS);
  }
}
