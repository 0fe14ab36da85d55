import ArgumentParser
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools

extension ExitStatus {
    var exitCode: ExitCode { ExitCode(rawValue) }
}

/// Runs a command body, printing a one-line error and exiting with the status it maps to.
func withExitStatus(_ body: () async throws -> ExitStatus) async throws {
    let status: ExitStatus
    do {
        status = try await body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch let error as CleanExit {
        throw error
    } catch {
        StandardError.write("memify-worker: \(error)\n")
        throw ExitStatus.forError(error).exitCode
    }
    if status != .done { throw status.exitCode }
}
