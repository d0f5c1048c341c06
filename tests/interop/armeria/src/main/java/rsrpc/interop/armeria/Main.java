package rsrpc.interop.armeria;

import java.util.Arrays;

/**
 * Entry point of the shaded jar: {@code java -jar armeria-interop.jar server|client [flags]}.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        // slf4j-simple: warnings and errors only, on stderr, unless the caller asks for more
        // (e.g. -Dorg.slf4j.simpleLogger.defaultLogLevel=debug).
        setDefaultProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        if (Arrays.asList(args).contains("--verbose") || Arrays.asList(args).contains("-verbose")) {
            setDefaultProperty("org.slf4j.simpleLogger.log.com.linecorp.armeria.server.logging", "info");
        }
        setDefaultProperty("org.slf4j.simpleLogger.logFile", "System.err");
        setDefaultProperty("org.slf4j.simpleLogger.showDateTime", "true");

        if (args.length == 0) {
            usage();
            System.exit(2);
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        int code;
        try {
            switch (args[0]) {
                case "server":
                    code = InteropServer.run(rest);
                    break;
                case "client":
                    code = InteropClient.run(rest);
                    break;
                case "-h":
                case "--help":
                case "help":
                    usage();
                    code = 0;
                    break;
                default:
                    System.err.println("unknown subcommand: " + args[0]);
                    usage();
                    code = 2;
            }
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            usage();
            code = 2;
        }
        // Armeria's and grpc's worker threads are not all daemons: exit explicitly.
        System.exit(code);
    }

    private static void setDefaultProperty(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    private static void usage() {
        System.err.println(String.join("\n",
                "usage:",
                "  java -jar armeria-interop.jar server --port N [--host 127.0.0.1] [--verbose]",
                "      serves grpc.testing.TestService over HTTP/1.1 and HTTP/2 cleartext on 127.0.0.1:N",
                "      (N=0 picks a free port); prints 'listening on N' on stderr when ready;",
                "      --verbose logs every request/response (Armeria LoggingService) on stderr",
                "  java -jar armeria-interop.jar client --server_host H --server_port N",
                "      [--transport h2|h1] [--test_case all|name[,name...]]",
                "      prints 'PASS name' / 'FAIL name: reason' per case; exit 1 if any failed"));
    }
}
