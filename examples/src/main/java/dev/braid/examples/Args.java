package dev.braid.examples;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A small command-line parser: positional arguments, {@code --name value} options and {@code --flag}s. Not thread-safe. */
final class Args {
  private final List<String> positional = new ArrayList<>();
  private final Map<String, String> options = new HashMap<>();

  private Args() {}

  /**
   * Parses {@code argv}; options may appear anywhere, as {@code --name value} or {@code --name=value}.
   *
   * @param valued options that take a value
   * @param flags options that take none
   * @throws UsageException for an unknown option or a missing value
   */
  static Args parse(String[] argv, Set<String> valued, Set<String> flags) throws UsageException {
    Args a = new Args();
    for (int i = 0; i < argv.length; i++) {
      String arg = argv[i];
      if (!arg.startsWith("--") || arg.equals("--")) {
        a.positional.add(arg);
        continue;
      }
      int eq = arg.indexOf('=');
      String name = eq < 0 ? arg : arg.substring(0, eq);
      if (flags.contains(name) && eq < 0) {
        a.options.put(name, "true");
      } else if (valued.contains(name)) {
        String value;
        if (eq >= 0) {
          value = arg.substring(eq + 1);
        } else if (i + 1 < argv.length) {
          value = argv[++i];
        } else {
          throw new UsageException(name + " needs a value");
        }
        a.options.put(name, value);
      } else {
        throw new UsageException("unknown option " + arg);
      }
    }
    return a;
  }

  /** The positional arguments, in order. */
  List<String> positional() {
    return positional;
  }

  /** Whether {@code flag} was given. */
  boolean flag(String flag) {
    return options.containsKey(flag);
  }

  /** The value of {@code option}, or null. */
  String option(String option) {
    return options.get(option);
  }

  /** The value of {@code option} as an integer in [min, max], or {@code fallback} when absent. */
  long longOption(String option, long fallback, long min, long max) throws UsageException {
    String v = options.get(option);
    if (v == null) {
      return fallback;
    }
    long n;
    try {
      n = Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw new UsageException(option + " must be a whole number, not '" + v + "'");
    }
    if (n < min || n > max) {
      throw new UsageException(option + " must be between " + min + " and " + max + ", not " + n);
    }
    return n;
  }

  /** The value of {@code option} in whole seconds (at least 1), or {@code fallback} when absent. */
  Duration seconds(String option, Duration fallback) throws UsageException {
    return options.containsKey(option) ? Duration.ofSeconds(longOption(option, 0, 1, 86_400)) : fallback;
  }
}
