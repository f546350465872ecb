package dev.braid;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * A typed transport-specific option: its key among the {@linkplain TransportOptions#properties() string
 * properties}, how its value is parsed, and its default. Every transport reads its settings through these, with
 * {@link TransportOptions#get(OptionKey)}, so every value is parsed in one place and a bad one fails with the
 * same kind of message: {@code option tcp.eventLoopThreads must be an integer from 1 to 1024, was "many"}. One
 * {@link TransportOptions} may reach several transports (through {@code Braid}), so a transport names its own keys
 * so that they cannot be mistaken for another's, and documents them on a public class of its exported package.
 * Keys shared by several transports are constants of {@link TransportOptions} (the TLS keystore, say); a
 * transport declares its own beside its provider.
 *
 * <p><b>Thread safety.</b> Immutable.
 *
 * @param <T> the parsed type
 */
public final class OptionKey<T> {
  private final String name;
  private final String expected;
  private final Function<String, T> parser;
  private final T fallback;

  private OptionKey(String name, String expected, Function<String, T> parser, T fallback) {
    this.name = Objects.requireNonNull(name, "name");
    this.expected = expected;
    this.parser = parser;
    this.fallback = fallback;
  }

  /** A string option. */
  public static OptionKey<String> string(String name, String fallback) {
    return new OptionKey<>(name, "a string", v -> v, fallback);
  }

  /** An optional string option (no default). */
  public static OptionKey<Optional<String>> optionalString(String name) {
    return new OptionKey<>(name, "a string", Optional::of, Optional.empty());
  }

  /** {@code true} or {@code false} (any case). */
  public static OptionKey<Boolean> bool(String name, boolean fallback) {
    return new OptionKey<>(name, "true or false", v -> {
      String s = v.trim().toLowerCase(Locale.ROOT);
      if (!s.equals("true") && !s.equals("false")) {
        throw new IllegalArgumentException();
      }
      return s.equals("true");
    }, fallback);
  }

  /** An integer from {@code min} to {@code max}. */
  public static OptionKey<Integer> integer(String name, int fallback, int min, int max) {
    return new OptionKey<>(name, "an integer from " + min + " to " + max, v -> (int) bounded(v, min, max), fallback);
  }

  /** A long from {@code min} to {@code max}. */
  public static OptionKey<Long> longInteger(String name, long fallback, long min, long max) {
    return new OptionKey<>(name, "an integer from " + min + " to " + max, v -> bounded(v, min, max), fallback);
  }

  private static long bounded(String v, long min, long max) {
    long n = Long.parseLong(v.trim());
    if (n < min || n > max) {
      throw new IllegalArgumentException();
    }
    return n;
  }

  /** An optional file path (no default). */
  public static OptionKey<Optional<Path>> path(String name) {
    return new OptionKey<>(name, "a file path", v -> {
      try {
        return Optional.of(Path.of(v));
      } catch (InvalidPathException e) {
        throw new IllegalArgumentException(e);
      }
    }, Optional.empty());
  }

  /** One of {@code values}' constants, by name in any case. */
  public static <E extends Enum<E>> OptionKey<E> oneOf(String name, Class<E> values, E fallback) {
    StringBuilder names = new StringBuilder();
    for (E e : values.getEnumConstants()) {
      names.append(names.length() == 0 ? "" : ", ").append(e.name().toLowerCase(Locale.ROOT));
    }
    return new OptionKey<>(name, "one of " + names, v -> Enum.valueOf(values, v.trim().toUpperCase(Locale.ROOT)),
        fallback);
  }

  /** The property key. */
  public String name() {
    return name;
  }

  /** The value when the property is not set. */
  public T fallback() {
    return fallback;
  }

  /**
   * Parses {@code raw} (null: the default).
   *
   * @throws IllegalArgumentException naming the option, what it expects and the value, if {@code raw} is bad
   */
  public T parse(String raw) {
    if (raw == null) {
      return fallback;
    }
    try {
      return Objects.requireNonNull(parser.apply(raw));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("option " + name + " must be " + expected + ", was \"" + raw + "\"", e);
    }
  }

  @Override
  public String toString() {
    return name;
  }
}
