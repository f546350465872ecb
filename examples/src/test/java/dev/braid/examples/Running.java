package dev.braid.examples;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.PrintStream;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * One example's command line running in this JVM on a thread of its own, exactly as {@code main} would run it, with
 * its output captured. Every wait is bounded; {@link #close()} interrupts an example still running (a server, a
 * receiver still waiting) and waits for it to return.
 */
final class Running implements AutoCloseable {
  /** An example's entry point: {@link FileTransfer#run} or {@link EchoService#run}. */
  interface Example {
    int run(String[] args, PrintStream out, PrintStream err);
  }

  private final String name;
  private final Output out = new Output();
  private final Output err = new Output();
  private final CompletableFuture<Integer> exit = new CompletableFuture<>();
  private final Thread thread;
  private boolean reported;

  private Running(String name, Example example, String[] args) {
    this.name = name + " " + String.join(" ", args);
    this.thread = new Thread(() -> {
      try {
        exit.complete(example.run(args, out.printStream(), err.printStream()));
      } catch (Throwable t) { // handed to the test through the future, never lost
        exit.completeExceptionally(t);
      }
    }, "example-" + name);
  }

  static Running start(String name, Example example, String... args) {
    Running r = new Running(name, example, args);
    r.thread.start();
    return r;
  }

  Output out() {
    return out;
  }

  Output err() {
    return err;
  }

  /** The address a receiver or server printed on its first line ({@code listening on ADDRESS}). */
  URI awaitListening(Duration timeout) throws InterruptedException {
    String line = out.awaitLine(l -> l.startsWith("listening on "), timeout).orElseGet(() -> {
      fail(name + " printed no 'listening on' line within " + timeout.toSeconds() + " s" + describe());
      return null;
    });
    return URI.create(line.substring("listening on ".length()).trim());
  }

  /** The exit code, waiting at most {@code timeout}; a failure shows the example's stack and output. */
  int awaitExit(Duration timeout) throws InterruptedException {
    try {
      return exit.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError(name + " threw" + describe(), e.getCause());
    } catch (TimeoutException e) {
      String stack = Arrays.stream(thread.getStackTrace()).map(f -> "\n    at " + f).collect(Collectors.joining());
      throw new AssertionError(name + " did not return within " + timeout.toSeconds() + " s; its thread:" + stack
          + describe());
    }
  }

  /** The output of both streams, for failure messages. */
  String describe() {
    return "\n--- stdout of " + name + ":\n" + out.text() + "\n--- stderr:\n" + err.text();
  }

  /**
   * Stops the example if it still runs (an interrupt, as a server's Ctrl-C) and waits for it, at most 30 s; then
   * prints its output into the test's report ({@code target/surefire-reports/*-output.txt}), once.
   */
  @Override
  public void close() {
    try {
      stop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while stopping " + name, e);
    } finally {
      if (!reported) {
        reported = true;
        System.out.println(describe());
      }
    }
  }

  /** Interrupts the example if it still runs (a server's Ctrl-C) and waits for it to return, at most 30 s. */
  void stop() throws InterruptedException {
    if (thread.isAlive()) {
      thread.interrupt();
      thread.join(30_000);
      if (thread.isAlive()) {
        fail(name + " did not stop within 30 s of an interrupt" + describe());
      }
    }
  }
}
