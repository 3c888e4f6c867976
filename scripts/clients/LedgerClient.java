// A bank system's view of the sandbox ledger: plain HTTP with Java 17's own
// client, no SDK and no Python. Run it with the JDK's single-file launcher:
//
//   java scripts/clients/LedgerClient.java http://127.0.0.1:8080 "$LEDGER_API_KEY"
//
// It onboards a client, registers BYN, deposits with an Idempotency-Key,
// sends the same deposit again (the ledger answers with the first result,
// marked Idempotent-Replayed), and reads the balances back.

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

public class LedgerClient {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;
    private final String key;

    LedgerClient(String base, String key) {
        this.base = base;
        this.key = key;
    }

    HttpResponse<String> post(String path, String json, String idempotencyKey) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        if (idempotencyKey != null) {
            request.header("Idempotency-Key", idempotencyKey);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + path))
                .header("Authorization", "Bearer " + key)
                .GET()
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    public static void main(String[] args) throws Exception {
        LedgerClient ledger = new LedgerClient(args[0], args[1]);
        HttpResponse<String> setup = ledger.post("/v1/commands", """
                [{"type": "register_asset", "key": "java-byn", "code": "BYN", "scale": 2, "kind": "fiat"},
                 {"type": "onboard_client", "key": "java-alesia", "client_id": "alesia", "name": "Alesia K.",
                  "residency": "resident", "kind": "individual"},
                 {"type": "verify_kyc", "key": "java-kyc", "client_id": "alesia"}]
                """, null);
        System.out.println("setup " + setup.statusCode());
        String deposit = """
                {"type": "deposit", "client_id": "alesia", "asset": "BYN", "amount": "25.00", "reference": "core-42"}
                """;
        HttpResponse<String> first = ledger.post("/v1/commands", deposit, "java-dep-1");
        System.out.println("deposit " + first.statusCode() + " " + first.body());
        HttpResponse<String> again = ledger.post("/v1/commands", deposit, "java-dep-1");
        System.out.println("repeat " + again.statusCode() + " replayed="
                + again.headers().firstValue("Idempotent-Replayed").orElse("false"));
        HttpResponse<String> balances = ledger.get("/v1/balances");
        System.out.println("balances " + balances.statusCode() + " " + balances.body());
    }
}
