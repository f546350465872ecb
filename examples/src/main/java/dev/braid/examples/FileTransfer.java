package dev.braid.examples;

import dev.braid.Braid;
import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.TransportUnavailableException;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Sends one file over any Braid URI, on one stream, and has the receiver verify and acknowledge it.
 *
 * <pre>
 * FileTransfer receive URI DIR   listens on URI (port 0 picks one), prints "listening on ADDRESS", stores one file in DIR
 * FileTransfer send ADDRESS FILE dials ADDRESS (as printed by the receiver) and sends FILE
 * </pre>
 *
 * <p><b>The stream</b>, opened by the sender:
 * <ol>
 *   <li>sender to receiver: a header ({@code "BRFT"}, version 1, the file name as a 16-bit length and UTF-8 bytes,
 *       the length as 64 bits), the file's bytes, then their SHA-256 (32 bytes), then <em>closeWrite</em> (FIN);</li>
 *   <li>the receiver checks that exactly that many bytes and then the digest arrived before the FIN, and that the
 *       digest matches what it computed; it then moves the file into place;</li>
 *   <li>receiver to sender, on its own half of the same stream: one line, {@code "OK <length> <sha256>"} or
 *       {@code "ERR <why>"}, then <em>closeWrite</em>. The stream is now closed in both directions; the sender closes
 *       the connection, and only then reports success.</li>
 * </ol>
 * A receiver that refuses the file before its data (a bad header, the file exists) resets the stream with one of the
 * codes below, and the sender's next write fails with that code. Neither side ever waits forever: dialing is bounded by
 * {@code --connect-timeout}, and a stream on which nothing moved for {@code --idle-timeout} is reset.
 *
 * <p>The transfer uses the blocking views ({@link MuxedStream#outputStream()}, {@link MuxedStream#inputStream()}) on
 * the main thread: one stream, sequential file I/O. {@link EchoService} shows the asynchronous API.
 *
 * <p>Exit codes: 0 sent (or received) and verified; 1 failed (unreachable, reset, lost connection, mismatch); 2 bad
 * input (usage, a missing file or directory, a URI no transport here understands).
 */
public final class FileTransfer {
  /** Reset code: the stream did not start with a valid header. */
  static final long CODE_BAD_HEADER = 1;
  /** Reset code: the receiver's directory already has a file of that name (and no {@code --overwrite}). */
  static final long CODE_FILE_EXISTS = 2;
  /** Reset code: the receiver could not write the file. */
  static final long CODE_RECEIVER_IO = 3;
  /** Reset code: nothing moved on the stream for the idle timeout. */
  static final long CODE_IDLE = 4;
  /** Reset code: the sender could not read its file to the end. */
  static final long CODE_SENDER_IO = 5;

  static final String USAGE = String.join("\n",
      "usage: FileTransfer receive URI DIR  [--overwrite] [--transport ID] [--idle-timeout S] [--quiet]",
      "       FileTransfer send ADDRESS FILE [--transport ID] [--connect-timeout S] [--idle-timeout S] [--quiet]",
      "  receive listens on URI (e.g. tcp://127.0.0.1:0, quic://127.0.0.1:4433, webrtc://10.0.0.5:0), prints",
      "  'listening on ADDRESS' and stores one file in DIR; send dials that ADDRESS and sends FILE.",
      "  --transport ID picks one transport by id (e.g. quic-netty) instead of the scheme's default.");

  private static final byte[] MAGIC = {'B', 'R', 'F', 'T'};
  private static final int VERSION = 1;
  private static final int MAX_NAME_BYTES = 255;
  private static final int DIGEST_BYTES = 32;
  private static final int MAX_ACK_BYTES = 4096;
  private static final int CHUNK = 64 * 1024;
  private static final Duration DEFAULT_IDLE = Duration.ofSeconds(60);
  private static final Duration DEFAULT_CONNECT = Duration.ofSeconds(10);
  /** How long a receiver waits, after its acknowledgement, for the sender to close the connection. */
  private static final Duration CLOSE_GRACE = Duration.ofSeconds(10);

  private FileTransfer() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /**
   * Runs the command line {@code args}: results on {@code out} (the receiver's first line is
   * {@code listening on ADDRESS}), progress and errors on {@code err}. Returns the exit code. Interrupting the calling
   * thread stops a receiver that is still waiting.
   */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    try {
      Args a = Args.parse(args, Set.of("--transport", "--idle-timeout", "--connect-timeout"),
          Set.of("--quiet", "--overwrite"));
      if (a.positional().size() != 3) {
        throw new UsageException(a.positional().isEmpty() ? "no command" : "expected 3 arguments, got "
            + a.positional().size() + ": " + a.positional());
      }
      URI uri = Endpoints.parse(a.positional().get(1));
      Path path = Path.of(a.positional().get(2));
      Options o = new Options(a.option("--transport"), a.seconds("--connect-timeout", DEFAULT_CONNECT),
          a.seconds("--idle-timeout", DEFAULT_IDLE), a.flag("--quiet"), a.flag("--overwrite"));
      switch (a.positional().get(0)) {
        case "send":
          return send(uri, path, o, out, err);
        case "receive":
          return receive(uri, path, o, out, err);
        default:
          throw new UsageException("unknown command '" + a.positional().get(0) + "' (send or receive)");
      }
    } catch (UsageException e) {
      err.println("FileTransfer: " + e.getMessage());
      err.println(USAGE);
      return Exit.USAGE;
    }
  }

  private static final class Options {
    final String transport;
    final Duration connectTimeout;
    final Duration idleTimeout;
    final boolean quiet;
    final boolean overwrite;

    Options(String transport, Duration connectTimeout, Duration idleTimeout, boolean quiet, boolean overwrite) {
      this.transport = transport;
      this.connectTimeout = connectTimeout;
      this.idleTimeout = idleTimeout;
      this.quiet = quiet;
      this.overwrite = overwrite;
    }
  }

  // ---------------------------------------------------------------- sender

  private static int send(URI uri, Path file, Options o, PrintStream out, PrintStream err) {
    if (!Files.exists(file)) {
      err.println("FileTransfer: no such file: " + file);
      return Exit.USAGE;
    }
    if (!Files.isRegularFile(file)) {
      err.println("FileTransfer: not a regular file: " + file);
      return Exit.USAGE;
    }
    if (!Files.isReadable(file)) {
      err.println("FileTransfer: cannot read " + file + ": permission denied");
      return Exit.USAGE;
    }
    String name = file.getFileName().toString();
    byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
    if (nameBytes.length > MAX_NAME_BYTES) {
      err.println("FileTransfer: the file name is longer than " + MAX_NAME_BYTES + " bytes: " + name);
      return Exit.USAGE;
    }
    long length;
    try {
      length = Files.size(file);
    } catch (IOException e) {
      err.println("FileTransfer: cannot read " + file + ": " + Errors.describe(e));
      return Exit.USAGE;
    }
    try (Braid braid = Endpoints.braid(o.transport, o.connectTimeout)) {
      Connection connection;
      try {
        // The transport bounds the dial by the connect timeout; the extra seconds only guard against one that does not.
        connection = braid.dial(uri).get(o.connectTimeout.toSeconds() + 5, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        return cannotConnect(uri, e.getCause(), err);
      } catch (TimeoutException e) {
        err.println("FileTransfer: cannot connect to " + uri + ": no connection within " + o.connectTimeout.toSeconds() + " s");
        return Exit.FAILED;
      }
      try (Connection c = connection) {
        MuxedStream stream = c.openStream().get(o.connectTimeout.toSeconds(), TimeUnit.SECONDS);
        try (Watchdog watchdog = Watchdog.start(stream, o.idleTimeout, CODE_IDLE)) {
          return sendOn(stream, file, name, nameBytes, length, uri, watchdog, o, out, err);
        } finally {
          stream.close();
        }
      } catch (ExecutionException | TimeoutException e) {
        err.println("FileTransfer: cannot open a stream to " + uri + ": "
            + (e instanceof TimeoutException ? "no answer within " + o.connectTimeout.toSeconds() + " s" : Errors.describe(e)));
        return Exit.FAILED;
      }
    } catch (TransportUnavailableException e) {
      err.println("FileTransfer: " + e.getMessage());
      return Exit.USAGE;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      err.println("FileTransfer: interrupted");
      return Exit.FAILED;
    }
  }

  private static int cannotConnect(URI uri, Throwable cause, PrintStream err) {
    Throwable e = Errors.unwrap(cause);
    err.println("FileTransfer: " + Errors.dialFailure(uri, e));
    return e instanceof TransportUnavailableException ? Exit.USAGE : Exit.FAILED;
  }

  private static int sendOn(MuxedStream stream, Path path, String name, byte[] nameBytes, long length, URI uri,
      Watchdog watchdog, Options o, PrintStream out, PrintStream err) throws InterruptedException {
    MessageDigest sha = sha256();
    Progress progress = new Progress(err, "sending " + name, length, o.quiet);
    byte[] digest;
    InputStream file;
    try {
      file = Files.newInputStream(path);
    } catch (IOException e) {
      stream.reset(CODE_SENDER_IO); // not close(): the receiver must not take an empty stream for a file
      err.println("FileTransfer: cannot read " + path + ": " + Errors.describe(e));
      return Exit.FAILED;
    }
    try (InputStream in = file) {
      OutputStream toPeer = stream.outputStream();
      toPeer.write(header(nameBytes, length)); // one write: the header travels in one frame
      byte[] buf = new byte[CHUNK];
      long sent = 0;
      while (sent < length) {
        int n;
        try {
          n = in.read(buf, 0, (int) Math.min(buf.length, length - sent));
        } catch (IOException e) {
          stream.reset(CODE_SENDER_IO);
          progress.interrupt();
          err.println("FileTransfer: cannot read " + path + " after " + sent + " bytes: " + Errors.describe(e)
              + "; transfer aborted");
          return Exit.FAILED;
        }
        if (n < 0) {
          stream.reset(CODE_SENDER_IO);
          progress.interrupt();
          err.println("FileTransfer: " + path + " shrank while it was being sent (" + sent + " of " + length
              + " bytes); transfer aborted");
          return Exit.FAILED;
        }
        sha.update(buf, 0, n);
        toPeer.write(buf, 0, n); // blocks until the transport accepted the bytes (flow control)
        sent += n;
        progress.update(sent);
      }
      digest = sha.digest();
      toPeer.write(digest);
      stream.closeWrite().get(); // FIN after the last byte: the receiver now knows the whole file arrived
      progress.finish(length);
    } catch (IOException | ExecutionException e) {
      progress.interrupt();
      err.println("FileTransfer: sending " + name + " to " + uri + " failed: " + streamFailure(e, watchdog, o));
      return Exit.FAILED;
    }
    String ack;
    try {
      ack = readAck(stream.inputStream());
    } catch (IOException e) {
      err.println("FileTransfer: no acknowledgement from the receiver: " + streamFailure(e, watchdog, o));
      return Exit.FAILED;
    }
    String hex = HexFormat.of().formatHex(digest);
    if (ack.startsWith("ERR ")) {
      err.println("FileTransfer: the receiver rejected " + name + ": " + ack.substring(4));
      return Exit.FAILED;
    }
    if (!ack.equals("OK " + length + " " + hex)) {
      err.println("FileTransfer: unexpected acknowledgement from the receiver: '" + ack + "' (expected OK " + length
          + " " + hex + ")");
      return Exit.FAILED;
    }
    out.println(String.format(Locale.ROOT, "sent %s (%d bytes) to %s in %.2f s; sha256 %s verified by the receiver",
        name, length, uri, progress.seconds(), hex));
    return Exit.OK;
  }

  private static byte[] header(byte[] nameBytes, long length) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream header = new DataOutputStream(bytes);
    header.write(MAGIC);
    header.writeByte(VERSION);
    header.writeShort(nameBytes.length);
    header.write(nameBytes);
    header.writeLong(length);
    return bytes.toByteArray();
  }

  /** The receiver's one-line acknowledgement: everything it sent before its FIN, at most 4 KiB. */
  private static String readAck(InputStream in) throws IOException {
    ByteArrayOutputStream ack = new ByteArrayOutputStream();
    byte[] buf = new byte[512];
    int n;
    while ((n = in.read(buf)) >= 0) {
      ack.write(buf, 0, n);
      if (ack.size() > MAX_ACK_BYTES) {
        throw new IOException("the acknowledgement is longer than " + MAX_ACK_BYTES + " bytes");
      }
    }
    String line = ack.toString(StandardCharsets.UTF_8);
    if (line.isEmpty()) {
      throw new EOFException("the receiver ended the stream without acknowledging");
    }
    return line.endsWith("\n") ? line.substring(0, line.length() - 1) : line;
  }

  // ---------------------------------------------------------------- receiver

  private static int receive(URI uri, Path dir, Options o, PrintStream out, PrintStream err) {
    if (!Files.isDirectory(dir)) {
      err.println("FileTransfer: not a directory: " + dir);
      return Exit.USAGE;
    }
    if (!Files.isWritable(dir)) {
      err.println("FileTransfer: cannot write to " + dir + ": permission denied");
      return Exit.USAGE;
    }
    try (Braid braid = Endpoints.braid(o.transport, o.connectTimeout)) {
      Listener listener;
      try {
        listener = braid.listen(uri);
      } catch (TransportUnavailableException | IllegalArgumentException e) {
        err.println("FileTransfer: cannot listen on " + uri + ": " + e.getMessage());
        return Exit.USAGE;
      } catch (IOException e) {
        err.println("FileTransfer: cannot listen on " + uri + ": " + Errors.describe(e));
        return Exit.FAILED;
      }
      Connection connection;
      try {
        out.println("listening on " + listener.address());
        out.flush();
        connection = listener.accept().get(); // waits for a sender; interrupting the thread stops it
      } catch (ExecutionException e) {
        err.println("FileTransfer: accepting a connection failed: " + Errors.describe(e));
        return Exit.FAILED;
      } finally {
        listener.close(); // one file per run: nobody else gets in
      }
      err.println("FileTransfer: connection from " + connection.remoteAddress());
      try (Connection c = connection) {
        MuxedStream stream;
        try {
          stream = c.acceptStream().get(o.idleTimeout.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
          err.println("FileTransfer: the sender opened no stream: "
              + (e instanceof TimeoutException ? "none within " + o.idleTimeout.toSeconds() + " s" : Errors.describe(e)));
          return Exit.FAILED;
        }
        int result;
        try (Watchdog watchdog = Watchdog.start(stream, o.idleTimeout, CODE_IDLE)) {
          result = receiveOn(stream, dir, watchdog, o, out, err);
        } finally {
          stream.close();
        }
        if (result == Exit.OK) {
          awaitSenderClose(c, err);
        }
        return result;
      }
    } catch (TransportUnavailableException e) {
      err.println("FileTransfer: " + e.getMessage());
      return Exit.USAGE;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      err.println("FileTransfer: interrupted");
      return Exit.FAILED;
    }
  }

  /** The sender closes the connection once it read the acknowledgement; closing first could cut the ack short. */
  private static void awaitSenderClose(Connection c, PrintStream err) throws InterruptedException {
    try {
      c.closeFuture().get(CLOSE_GRACE.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      err.println("FileTransfer: note: the connection ended with: " + Errors.describe(e));
    } catch (TimeoutException e) {
      err.println("FileTransfer: note: the sender kept the connection open " + CLOSE_GRACE.toSeconds()
          + " s after the acknowledgement; closing it");
    }
  }

  private static final class Header {
    final String name;
    final long length;

    Header(String name, long length) {
      this.name = name;
      this.length = length;
    }

    /** Reads and checks a header; a {@link BadHeader} says what was wrong. */
    static Header read(DataInputStream in) throws IOException, BadHeader {
      byte[] magic = new byte[MAGIC.length];
      in.readFully(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw new BadHeader("the stream does not start with a FileTransfer header");
      }
      int version = in.readUnsignedByte();
      if (version != VERSION) {
        throw new BadHeader("unsupported FileTransfer version " + version + " (this receiver speaks " + VERSION + ")");
      }
      int nameLength = in.readUnsignedShort();
      if (nameLength == 0 || nameLength > MAX_NAME_BYTES) {
        throw new BadHeader("bad file name length " + nameLength);
      }
      byte[] name = new byte[nameLength];
      in.readFully(name);
      String n = new String(name, StandardCharsets.UTF_8);
      if (n.equals(".") || n.equals("..") || n.contains("/") || n.contains("\\") || n.indexOf('\0') >= 0) {
        throw new BadHeader("refusing the file name '" + n + "': it must be a plain name, no directories");
      }
      long length = in.readLong();
      if (length < 0) {
        throw new BadHeader("negative file length " + length);
      }
      return new Header(n, length);
    }
  }

  /** A header the receiver refuses. */
  private static final class BadHeader extends Exception {
    BadHeader(String message) {
      super(message);
    }
  }

  private static int receiveOn(MuxedStream stream, Path dir, Watchdog watchdog, Options o, PrintStream out,
      PrintStream err) throws InterruptedException {
    DataInputStream in = new DataInputStream(stream.inputStream());
    Header header;
    try {
      header = Header.read(in);
    } catch (BadHeader e) {
      stream.reset(CODE_BAD_HEADER);
      err.println("FileTransfer: " + e.getMessage() + "; stream reset");
      return Exit.FAILED;
    } catch (EOFException e) {
      stream.reset(CODE_BAD_HEADER);
      err.println("FileTransfer: the sender ended the stream inside the header; stream reset");
      return Exit.FAILED;
    } catch (IOException e) {
      err.println("FileTransfer: receiving the header failed: " + streamFailure(e, watchdog, o));
      return Exit.FAILED;
    }
    Path target = dir.resolve(header.name);
    if (!o.overwrite && Files.exists(target)) {
      stream.reset(CODE_FILE_EXISTS);
      err.println("FileTransfer: refused " + header.name + ": it already exists in " + dir + " (--overwrite replaces it)");
      return Exit.FAILED;
    }
    Progress progress = new Progress(err, "receiving " + header.name, header.length, o.quiet);
    try (PartFile file = PartFile.create(dir, header.name, err)) {
      MessageDigest sha = sha256();
      byte[] buf = new byte[CHUNK];
      long received = 0;
      while (received < header.length) {
        int n = in.read(buf, 0, (int) Math.min(buf.length, header.length - received));
        if (n < 0) {
          progress.interrupt();
          return reject(stream, "the stream ended after " + received + " of " + header.length + " bytes", err);
        }
        file.write(buf, n);
        sha.update(buf, 0, n);
        received += n;
        progress.update(received);
      }
      byte[] theirs = new byte[DIGEST_BYTES];
      try {
        in.readFully(theirs);
      } catch (EOFException e) {
        progress.interrupt();
        return reject(stream, "the stream ended before the SHA-256 that follows the data", err);
      }
      if (in.read() >= 0) {
        progress.interrupt();
        return reject(stream, "unexpected bytes after the SHA-256 (the sender must half-close after it)", err);
      }
      progress.finish(received);
      String ours = HexFormat.of().formatHex(sha.digest());
      String hex = HexFormat.of().formatHex(theirs);
      if (!ours.equals(hex)) {
        return reject(stream, "SHA-256 mismatch: the sender's is " + hex + ", the received bytes' is " + ours, err);
      }
      try {
        file.moveTo(target, o.overwrite);
      } catch (FileAlreadyExistsException e) {
        return reject(stream, header.name + " appeared in " + dir + " during the transfer; not replaced", err);
      }
      acknowledge(stream, "OK " + received + " " + ours);
      out.println(String.format(Locale.ROOT, "received %s (%d bytes) from %s in %.2f s; sha256 %s verified; stored as %s",
          header.name, received, stream.connection().remoteAddress(), progress.seconds(), ours, target));
      return Exit.OK;
    } catch (PartFile.LocalFileException e) {
      stream.reset(CODE_RECEIVER_IO);
      progress.interrupt();
      err.println("FileTransfer: " + e.getMessage() + "; stream reset");
      return Exit.FAILED;
    } catch (IOException | ExecutionException e) {
      progress.interrupt();
      err.println("FileTransfer: receiving " + header.name + " failed: " + streamFailure(e, watchdog, o));
      return Exit.FAILED;
    }
  }

  /** Sends an {@code ERR} acknowledgement and half-closes; the file is not stored. */
  private static int reject(MuxedStream stream, String why, PrintStream err) throws InterruptedException {
    err.println("FileTransfer: rejected the file: " + why);
    try {
      acknowledge(stream, "ERR " + why);
    } catch (IOException | ExecutionException e) {
      err.println("FileTransfer: could not tell the sender: " + Errors.describe(e));
    }
    return Exit.FAILED;
  }

  private static void acknowledge(MuxedStream stream, String line) throws IOException, ExecutionException,
      InterruptedException {
    stream.outputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
    stream.closeWrite().get();
  }

  // ---------------------------------------------------------------- shared

  /** Why a stream operation failed, in words, with the meaning of this example's reset codes. */
  private static String streamFailure(Exception e, Watchdog watchdog, Options o) {
    if (watchdog.fired()) {
      return "nothing moved on the stream for " + o.idleTimeout.toSeconds() + " s; gave up (stream reset)";
    }
    return Errors.describe(e, FileTransfer::codeName);
  }

  /** What this example's reset codes mean. */
  static String codeName(long code) {
    switch ((int) Math.min(code, Integer.MAX_VALUE)) {
      case (int) CODE_BAD_HEADER:
        return "bad header";
      case (int) CODE_FILE_EXISTS:
        return "the receiver already has a file of that name";
      case (int) CODE_RECEIVER_IO:
        return "the receiver could not write the file";
      case (int) CODE_IDLE:
        return "nothing moved for the idle timeout";
      case (int) CODE_SENDER_IO:
        return "the sender could not read its file";
      default:
        return null;
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
