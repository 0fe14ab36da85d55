import Foundation

/// Where the integration servers are, from the variables `.ci/run` and `scripts/test` export.
public enum TestEnvironment {
    public static var redisURL: String? { ProcessInfo.processInfo.environment["MEMIFY_TEST_REDIS_URL"] }
    public static var postgresURL: String? { ProcessInfo.processInfo.environment["MEMIFY_TEST_POSTGRES_URL"] }

    /// `../shared/fixtures/cognee-1.6.5`, found from this file's location in the repository.
    public static var fixturesDirectory: String {
        if let override = ProcessInfo.processInfo.environment["MEMIFY_FIXTURES"] { return override }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return repo.deletingLastPathComponent().appendingPathComponent("shared/fixtures/cognee-1.6.5").path
    }

    public static var repositoryDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }
}
