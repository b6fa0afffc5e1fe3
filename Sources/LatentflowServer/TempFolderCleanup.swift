import Foundation
import Latentflow

/// ComfyUI's `cleanup_temp` (`main.py`, at start-up and at exit): the previews in the temp folder
/// are only for the session that made them, so the folder is emptied. Only the folder itself:
/// a symlink inside is removed as a link, never followed, and a temp folder that is itself a
/// symlink is left alone (as `shutil.rmtree` refuses one), so nothing outside it is ever touched.
enum TempFolderCleanup {
    /// Removes everything inside `folder`, keeping the folder; returns how many entries went.
    @discardableResult
    static func empty(_ folder: URL) -> Int {
        guard kind(of: folder.path) == S_IFDIR else { return 0 }
        return removeContents(of: folder.path)
    }

    private static func removeContents(of path: String) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return 0 }
        var removed = 0
        for name in names {
            let child = path + "/" + name
            // lstat: a symlink is a symlink here, whatever it points at.
            if kind(of: child) == S_IFDIR {
                removed += removeContents(of: child)
                if rmdir(child) == 0 { removed += 1 }
            } else if unlink(child) == 0 {
                removed += 1
            }
        }
        return removed
    }

    private static func kind(of path: String) -> mode_t? {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : nil
    }
}
