package dev.braid.internal;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** JFR events for a stream's life; {@code jfr print --events 'dev.braid.*' rec.jfr} shows them. */
public final class StreamEvents {
  private StreamEvents() {}

  /** A stream was opened (locally) or accepted (from the peer). */
  @Name("dev.braid.StreamOpen")
  @Label("Braid Stream Open")
  @Category({"Braid", "Streams"})
  @StackTrace(false)
  public static final class Open extends Event {
    @Label("Transport") public String transport;
    @Label("Connection") public long connection;
    @Label("Stream") public long stream;
    @Label("Locally Initiated") public boolean local;
  }

  /** A stream moved from one {@code StreamState} to another. */
  @Name("dev.braid.StreamTransition")
  @Label("Braid Stream Transition")
  @Category({"Braid", "Streams"})
  @StackTrace(false)
  public static final class Transition extends Event {
    @Label("Transport") public String transport;
    @Label("Connection") public long connection;
    @Label("Stream") public long stream;
    @Label("From") public String from;
    @Label("To") public String to;
  }

  /** A stream reached a terminal state; the event's duration is the stream's lifetime. */
  @Name("dev.braid.StreamClose")
  @Label("Braid Stream Close")
  @Description("A stream's whole life: from open to its terminal state")
  @Category({"Braid", "Streams"})
  @StackTrace(false)
  public static final class Close extends Event {
    @Label("Transport") public String transport;
    @Label("Connection") public long connection;
    @Label("Stream") public long stream;
    @Label("Final State") public String state;
    @Label("Bytes Read") @DataAmount public long bytesRead;
    @Label("Bytes Written") @DataAmount public long bytesWritten;
  }
}
