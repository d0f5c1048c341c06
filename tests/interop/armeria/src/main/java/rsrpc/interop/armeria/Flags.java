package rsrpc.interop.armeria;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Minimal command-line flag parser accepting grpc-go's spellings as well as GNU ones:
 * {@code --name value}, {@code --name=value}, {@code -name value}, {@code -name=value}.
 * A flag listed as boolean may stand alone ({@code --use_tls}) meaning "true".
 */
final class Flags {
    private final Map<String, String> values = new HashMap<>();

    private Flags() {}

    static Flags parse(String[] args, Set<String> known, Set<String> booleans) {
        Flags flags = new Flags();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("-") || arg.equals("-") || arg.equals("--")) {
                throw new IllegalArgumentException("unexpected argument: " + arg);
            }
            String body = arg.startsWith("--") ? arg.substring(2) : arg.substring(1);
            String name;
            String value;
            int eq = body.indexOf('=');
            if (eq >= 0) {
                name = body.substring(0, eq);
                value = body.substring(eq + 1);
            } else {
                name = body;
                if (booleans.contains(name)) {
                    value = "true";
                } else {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException("flag --" + name + " needs a value");
                    }
                    value = args[++i];
                }
            }
            if (!known.contains(name) && !booleans.contains(name)) {
                throw new IllegalArgumentException("unknown flag: --" + name);
            }
            flags.values.put(name, value);
        }
        return flags;
    }

    String get(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    int getInt(String name, int fallback) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("flag --" + name + " wants an integer, got " + v);
        }
    }

    boolean getBool(String name) {
        String v = values.get(name);
        return v != null && (v.equalsIgnoreCase("true") || v.equals("1"));
    }
}
