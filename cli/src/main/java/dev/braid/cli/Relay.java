package dev.braid.cli;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * What a child JVM's Java code prints, handed to the JVM that started it ({@link ChildRun#relayed}) through a file
 * instead of the child's standard output and error, which go to a log.
 *
 * <p>Why: a native library writes to file descriptors 1 and 2 directly, past {@code System.out}. webrtc-java 0.14.0
 * does so at every exit of a JVM that loaded it ("VM attach current thread failed", transport-webrtc/README.md), after
 * the JVM stopped running Java code. Relaying the child's descriptors would relay that too; relaying what its Java code
 * printed does not. Nothing is filtered: the child's {@code System.out} and {@code System.err} go both to this file and
 * to the descriptors (so the log keeps everything the child printed, native lines included), and the parent prints
 * what came through the file.
 *
 * <p>The file is a sequence of records, each a tag byte, the payload's length in decimal, {@code '\n'}, and the
 * payload: {@code O} bytes for standard output, {@code E} bytes for standard error, {@code D} one UTF-8 line of data
 * for the parent (a row of a benchmark), {@code X} the command's exit status, the last record. Each record is flushed
 * as written; the parent reads whole records only.
 */
final class Relay {
  static final byte OUT = 'O';
  static final byte ERR = 'E';
  static final byte DATA = 'D';
  static final byte EXIT = 'X';

  private static final int CHUNK = 64 * 1024;

  private static volatile Writer child;

  private Relay() {}

  /** This JVM's relay if {@link ChildRun#relayed} started it ({@code Main --relay FILE ...}), else null. */
  static Writer child() {
    return child;
  }

  /** The child's end: appends records to the file. */
  static final class Writer {
    private final OutputStream file;

    private Writer(Path f) throws IOException {
      Files.deleteIfExists(f);
      file = new BufferedOutputStream(Files.newOutputStream(f, StandardOpenOption.CREATE_NEW,
          StandardOpenOption.APPEND));
    }

    /** Opens {@code f} as this JVM's relay ({@link #child()}). */
    static Writer open(Path f) throws IOException {
      Writer w = new Writer(f);
      child = w;
      return w;
    }

    synchronized void record(byte tag, byte[] b, int off, int len) {
      try {
        file.write(tag);
        file.write(Integer.toString(len).getBytes(StandardCharsets.US_ASCII));
        file.write('\n');
        file.write(b, off, len);
        file.flush();
      } catch (IOException e) {
        throw new UncheckedIOException("the relay to the parent JVM failed", e);
      }
    }

    /** One line of data for the parent. */
    void data(String line) {
      byte[] b = line.getBytes(StandardCharsets.UTF_8);
      record(DATA, b, 0, b.length);
    }

    /** The command's exit status: the last record. */
    void exit(int status) {
      byte[] b = Integer.toString(status).getBytes(StandardCharsets.US_ASCII);
      record(EXIT, b, 0, b.length);
    }

    /** A stream whose bytes become {@code tag} records and are also written to {@code alsoTo} (the log). */
    PrintStream stream(byte tag, OutputStream alsoTo) {
      OutputStream both = new OutputStream() {
        @Override
        public void write(int b) throws IOException {
          write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          for (int at = off; at < off + len; at += CHUNK) { // records stay small however much is written at once
            record(tag, b, at, Math.min(CHUNK, off + len - at));
          }
          alsoTo.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
          alsoTo.flush();
        }
      };
      return new PrintStream(both, true, StandardCharsets.UTF_8);
    }
  }

  /** The parent's end: reads what the child appended since the last call and hands on each whole record. */
  static final class Reader {
    private final Path file;
    private long position;
    private byte[] pending = new byte[0];
    private Integer status;

    Reader(Path file) {
      this.file = file;
    }

    /** The exit status the child reported, or null while it reported none. */
    Integer status() {
      return status;
    }

    /** Writes the new output records to {@code out} and {@code err}, and hands each data line to {@code data}. */
    void poll(PrintStream out, PrintStream err, Consumer<String> data) throws IOException {
      if (!Files.exists(file)) {
        return;
      }
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        for (int n; (n = ch.read(buf.clear(), position)) > 0; ) {
          position += n;
          int kept = pending.length;
          pending = Arrays.copyOf(pending, kept + n);
          System.arraycopy(buf.array(), 0, pending, kept, n);
          dispatch(out, err, data);
        }
      }
      out.flush();
      err.flush();
    }

    private void dispatch(PrintStream out, PrintStream err, Consumer<String> data) throws IOException {
      int at = 0;
      while (true) {
        int nl = -1;
        for (int i = at + 1; i < pending.length && i < at + 12; i++) {
          if (pending[i] == '\n') {
            nl = i;
            break;
          }
        }
        if (nl < 0) {
          if (pending.length - at >= 12) {
            throw new IOException("the relay file " + file + " is damaged at byte " + (position - pending.length + at));
          }
          break;
        }
        int len = Integer.parseInt(new String(pending, at + 1, nl - at - 1, StandardCharsets.US_ASCII));
        if (pending.length - nl - 1 < len) {
          break; // the rest of this record is not written yet
        }
        byte tag = pending[at];
        if (tag == OUT) {
          out.write(pending, nl + 1, len);
        } else if (tag == ERR) {
          err.write(pending, nl + 1, len);
        } else if (tag == DATA) {
          data.accept(new String(pending, nl + 1, len, StandardCharsets.UTF_8));
        } else if (tag == EXIT) {
          status = Integer.parseInt(new String(pending, nl + 1, len, StandardCharsets.US_ASCII));
        } else {
          throw new IOException("the relay file " + file + " has an unknown record '" + (char) tag + "'");
        }
        at = nl + 1 + len;
      }
      pending = Arrays.copyOfRange(pending, at, pending.length);
    }
  }
}
