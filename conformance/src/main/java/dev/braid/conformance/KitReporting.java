package dev.braid.conformance;

import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.junit.jupiter.api.extension.TestWatcher;
import org.opentest4j.TestAbortedException;

/**
 * Makes every failure of a rule say what to fix, as the Reactive Streams TCK does: the rule's id and title, what
 * went wrong (the first line of the original message, never an empty one), then "If this rule fails, check
 * first: ...", then the rest of the original message; the original failure stays the cause. A raw exception
 * (a {@code ClassCastException} from a transport returning the wrong exception type, say) is reported the same
 * way. Skips are printed with their reason, so Surefire's console and XML show why a rule did not run.
 */
public final class KitReporting implements TestExecutionExceptionHandler, TestWatcher {
  private static final Pattern RULE = Pattern.compile("^([A-Z][0-9]+)_");

  /** Used by JUnit through {@code @ExtendWith} on the kit's suites. */
  public KitReporting() {}

  /** What to check first when a rule fails, by rule id. */
  static final Map<String, String> CHECK_FIRST = Map.ofEntries(
      Map.entry("L1", "that the transport reports every state change through AbstractMuxedStream (or its own state "
          + "machine) and never moves backwards; a stream that passes through OPENING must declare OPENING_STATE"),
      Map.entry("L2", "that listeners are called from one serial executor per stream, after the state changed, and "
          + "never twice for one transition when closes and resets race"),
      Map.entry("L3", "that no lock of the transport is held while listeners run, and that listeners do not run on "
          + "the transport's I/O thread"),
      Map.entry("L4", "that write() checks the write side and queues the bytes under the same lock closeWrite takes"),
      Map.entry("O1", "that openStream() completes only with a usable stream and the peer lists and accepts it"),
      Map.entry("O2", "that a stream created before the protocol made it usable reports OPENING, then OPEN"),
      Map.entry("O3", "that inbound streams go to the handler or to acceptStream(), and that opening on an ended "
          + "connection fails with ConnectionFailedException"),
      Map.entry("H1", "that the FIN is sent only after every byte written before closeWrite left the transport, also "
          + "when those bytes wait for flow-control credit"),
      Map.entry("H2", "that closeWrite ends only our direction: the peer's bytes still arrive and both FINs make CLOSED"),
      Map.entry("H3", "that closeWrite is idempotent and a later write fails with WriteClosedException(CLOSED_LOCALLY)"),
      Map.entry("H4", "that bytes received before the peer's FIN stay buffered and readable after the state changed"),
      Map.entry("H5", "that closeRead completes a pending read with EOF and discards later inbound bytes"),
      Map.entry("H6", "that closeRead sends STOP_SENDING and the peer turns it into WriteClosedException(STOPPED_BY_PEER)"),
      Map.entry("H7", "that bytes discarded after closeRead still return their flow-control credit to the peer"),
      Map.entry("H8", "the order of frames on the wire: a FIN issued from one thread must not overtake data frames "
          + "another thread has queued (an event loop writing inline while other writes wait in its task queue)"),
      Map.entry("H9", "that a FIN written after the stream's bytes left the transport (and were acknowledged) is still "
          + "sent: a transport must not forget a stream whose data was acknowledged while its FIN waits"),
      Map.entry("C1", "that close() is closeRead plus a graceful closeWrite: queued bytes first, then FIN"),
      Map.entry("C2", "that reset(code) sends the code on the wire and the peer reports it as a remote reset"),
      Map.entry("C3", "that reads and writes after a reset fail with the same StreamResetException (code, origin), "
          + "also through the blocking views"),
      Map.entry("C4", "that a reset fails pending reads and writes, including a write held by flow control, with "
          + "StreamResetException"),
      Map.entry("C5", "that closes and resets are no-ops in terminal states and never reach the wire there"),
      Map.entry("C6", "that reset codes outside 0..2^32-1 are rejected before anything changes, and the largest one "
          + "crosses the wire"),
      Map.entry("D1", "that small writes are framed and delivered whole, in order"),
      Map.entry("D2", "flow control and framing of large transfers: lost, duplicated or reordered frames"),
      Map.entry("D3", "that one write's bytes are never interleaved with another's on the wire"),
      Map.entry("D4", "stream-id allocation and the stream table under 1,000 concurrent streams from both ends"),
      Map.entry("B1", "that a writer waits for the peer's credit, and the receiver buffers no more than its window"),
      Map.entry("N1", "that closing a connection ends every stream on both ends and empties both stream lists"),
      Map.entry("N2", "that a connection lost without a goodbye is detected (keep-alive, idle timeout) and fails "
          + "every stream and blocked writer"),
      Map.entry("N3", "that a stream that ended on its own is removed from the connection's stream list"),
      Map.entry("N4", "that opens beyond maxStreams fail with StreamRefusedException and a freed slot is reusable"),
      Map.entry("N5", "that the end of a connection fails writes still flushing on streams that were CLOSED"),
      Map.entry("N6", "that a graceful close sends a goodbye (go-away, CONNECTION_CLOSE) and lingers instead of "
          + "resetting the socket under the peer's bytes"),
      Map.entry("N7", "what keeps ended streams reachable: a map of stream ids, a per-stream timer, listener or "
          + "observer, the protocol library's own stream table (run with -Dbraid.churn.histograms=DIR)"),
      Map.entry("N8", "that the peer's refusal (over its maxStreams) goes on the wire with the reserved code REFUSED "
          + "(over yamux: a RST before the ACK) and is reported through StreamRefusedException, not a plain reset"),
      Map.entry("E1", "that a reset wakes pending reads and writes and that late drain events on an ended stream "
          + "neither throw nor write"),
      Map.entry("E2", "that an exception from a listener is caught and logged, never propagated"),
      Map.entry("E3", "that the blocking views wrap the asynchronous core: -1 at EOF, the same exceptions"),
      Map.entry("M1", "the first operation whose result differs from the model, in the operation log below; replay with the seed"),
      Map.entry("R1", "the round's operations above: which close or reset won, and whether its FIN, reset or "
          + "STOP_SENDING reached the peer; replay with the seed"),
      Map.entry("R2", "that a reset issued after the FIN (queued or sent) still sends RESET_STREAM / RST to the peer"),
      Map.entry("R3", "that a connection's end fails every pending operation of every stream on both ends"),
      Map.entry("F1", "flow-control credit and stream cleanup when many streams are reset while data flows"),
      Map.entry("F2", "that a killed connection releases writers blocked in the blocking view"),
      Map.entry("F3", "that a peer that stops reading holds writers back, and a reset frees them"),
      Map.entry("F4", "that an open flood is refused with StreamRefusedException without harming the connection"),
      Map.entry("F5", "that close() under load still sends every queued byte before the FIN"),
      Map.entry("F6", "retransmission and reordering (UDP) or failure detection (TCP cut) under the fault proxy"));

  @Override
  public void handleTestExecutionException(ExtensionContext context, Throwable failure) throws Throwable {
    if (failure instanceof TestAbortedException) {
      throw failure;
    }
    String rule = ruleOf(context).orElse(null);
    if (rule == null) {
      throw failure;
    }
    String message = failure.getMessage() == null ? "" : failure.getMessage();
    String first = firstLine(message);
    if (!(failure instanceof AssertionError) || first.isEmpty()) {
      first = failure.getClass().getSimpleName() + (first.isEmpty() ? "" : ": " + first);
    }
    String stripped = message.strip();
    int nl = stripped.indexOf('\n');
    String rest = nl < 0 ? "" : "\n" + stripped.substring(nl + 1);
    String hint = CHECK_FIRST.get(rule);
    String title = context.getTestMethod().map(m -> m.getAnnotation(org.junit.jupiter.api.DisplayName.class))
        .map(org.junit.jupiter.api.DisplayName::value).orElse(rule);
    AssertionError wrapped = new AssertionError(title + " (" + context.getDisplayName() + ") failed: " + first
        + (hint == null ? "" : "\nIf this rule fails, check first: " + hint) + rest, failure);
    wrapped.setStackTrace(failure.getStackTrace());
    throw wrapped;
  }

  @Override
  public void testAborted(ExtensionContext context, Throwable cause) {
    String reason = cause == null || cause.getMessage() == null ? "no reason given"
        : cause.getMessage().replaceFirst("^Assumption failed: ", "");
    System.out.println("[kit] SKIPPED " + context.getRequiredTestClass().getSimpleName() + " "
        + context.getDisplayName() + ": " + reason);
  }

  private static Optional<String> ruleOf(ExtensionContext context) {
    return context.getTestMethod().map(m -> {
      Matcher m2 = RULE.matcher(m.getName());
      return m2.find() ? m2.group(1) : null;
    });
  }

  private static String firstLine(String s) {
    for (String line : s.split("\n")) {
      if (!line.isBlank()) {
        return line.strip();
      }
    }
    return "";
  }
}
