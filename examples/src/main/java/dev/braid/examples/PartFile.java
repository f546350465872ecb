package dev.braid.examples;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A file being received: written under a temporary name in the target directory, moved to its real name only once
 * verified, deleted otherwise. Its failures are {@link LocalFileException}s, never {@link IOException}s, so that they
 * cannot be mistaken for the stream's. Not thread-safe.
 */
final class PartFile implements AutoCloseable {
  private final Path part;
  private final OutputStream out;
  private final PrintStream err;
  private boolean moved;

  private PartFile(Path part, OutputStream out, PrintStream err) {
    this.part = part;
    this.out = out;
    this.err = err;
  }

  /** A new, empty temporary file in {@code dir} for a file to be called {@code name}. */
  static PartFile create(Path dir, String name, PrintStream err) throws LocalFileException {
    Path part;
    try {
      part = Files.createTempFile(dir, "." + name + ".", ".part");
    } catch (IOException e) {
      throw new LocalFileException("cannot create a file in " + dir, e);
    }
    try {
      return new PartFile(part, Files.newOutputStream(part), err);
    } catch (IOException e) {
      LocalFileException failure = new LocalFileException("cannot write " + part, e);
      delete(part, failure);
      throw failure;
    }
  }

  void write(byte[] buf, int length) throws LocalFileException {
    try {
      out.write(buf, 0, length);
    } catch (IOException e) {
      throw new LocalFileException("cannot write " + part, e);
    }
  }

  /**
   * Closes the file and gives it its name; {@code replace} replaces a file of that name, otherwise one that exists
   * fails with {@link FileAlreadyExistsException}.
   */
  void moveTo(Path target, boolean replace) throws LocalFileException, FileAlreadyExistsException {
    try {
      out.close();
    } catch (IOException e) {
      throw new LocalFileException("cannot write " + part, e);
    }
    try {
      if (replace) {
        Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } else {
        Files.move(part, target);
      }
      moved = true;
    } catch (FileAlreadyExistsException e) {
      throw e;
    } catch (IOException e) {
      throw new LocalFileException("cannot move " + part + " to " + target, e);
    }
  }

  /** Deletes the temporary file unless it was moved into place. */
  @Override
  public void close() {
    if (moved) {
      return;
    }
    try {
      out.close();
    } catch (IOException e) {
      err.println("FileTransfer: closing the partial file " + part + " failed: " + Errors.describe(e));
    }
    try {
      Files.deleteIfExists(part);
    } catch (IOException e) {
      err.println("FileTransfer: could not delete the partial file " + part + ": " + Errors.describe(e));
    }
  }

  private static void delete(Path part, Exception failure) {
    try {
      Files.deleteIfExists(part);
    } catch (IOException e) {
      failure.addSuppressed(e);
    }
  }

  /** The receiver's own file failed (not the stream). */
  static final class LocalFileException extends Exception {
    LocalFileException(String message, IOException cause) {
      super(message + ": " + Errors.describe(cause), cause);
    }
  }
}
