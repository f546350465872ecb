package dev.braid;

import java.io.IOException;

/** The root of every I/O failure Braid reports. Each subtype names one cause. */
public class BraidException extends IOException {
  private static final long serialVersionUID = 1L;

  /** @param message what happened */
  public BraidException(String message) {
    super(message);
  }

  /**
   * @param message what happened
   * @param cause what caused it
   */
  public BraidException(String message, Throwable cause) {
    super(message, cause);
  }
}
