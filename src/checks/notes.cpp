#include "trunkgate/checks/notes.hpp"

#include <chrono>
#include <random>
#include <thread>

#include "trunkgate/history/git.hpp"
#include "trunkgate/history/refs.hpp"

namespace trunkgate {

namespace {

std::optional<commit_ptr> notes_tip(git_repository* repo, const std::string& notes_ref) {
    const auto tip = read_ref(repo, notes_ref);
    if (!tip)
        return std::nullopt;
    git_commit* raw = nullptr;
    check(git_commit_lookup(&raw, repo, &*tip), "read " + notes_ref);
    return commit_ptr(raw);
}

std::optional<std::string> note_text(git_repository* repo, git_commit* notes_commit,
                                     const git_oid& commit) {
    git_note* raw = nullptr;
    const int rc = git_note_commit_read(&raw, repo, notes_commit, &commit);
    if (rc == GIT_ENOTFOUND) {
        git_error_clear();
        return std::nullopt;
    }
    check(rc, "read a note");
    note_ptr note(raw);
    const char* message = git_note_message(note.get());
    return std::string(message ? message : "");
}

} // namespace

std::optional<std::string> read_note(git_repository* repo, const std::string& notes_ref,
                                     const git_oid& commit) {
    const auto tip = notes_tip(repo, notes_ref);
    if (!tip)
        return std::nullopt;
    return note_text(repo, tip->get(), commit);
}

void update_note(git_repository* repo, const std::string& notes_ref, const git_oid& commit,
                 const std::string& who,
                 const std::function<std::string(const std::optional<std::string>&)>& merge) {
    git_signature* raw_signature = nullptr;
    check(git_signature_now(&raw_signature, who.empty() ? "trunkgate" : who.c_str(),
                            "trunkgate@localhost"),
          "sign the note");
    signature_ptr signature(raw_signature);
    std::mt19937 random(std::random_device{}());
    for (int attempt = 0; attempt < 50; ++attempt) {
        const auto tip = notes_tip(repo, notes_ref);
        const auto current = tip ? note_text(repo, tip->get(), commit) : std::nullopt;
        const auto text = merge(current);
        git_oid new_tip, blob;
        check(git_note_commit_create(&new_tip, &blob, repo, tip ? tip->get() : nullptr,
                                     signature.get(), signature.get(), &commit, text.c_str(), 1),
              "write a note");
        git_reference* ref = nullptr;
        // Compare-and-swap: the ref moves only if it still points where we read it. "It did not
        // exist" is the zero id, compared under the ref's lock too: git_reference_create with
        // force = 0 checks existence before taking the lock, so two first writers could both
        // succeed and one of them lose the other's note.
        git_oid expected{};
        if (tip)
            git_oid_cpy(&expected, git_commit_id(tip->get()));
        const int rc = git_reference_create_matching(&ref, repo, notes_ref.c_str(), &new_tip, 1,
                                                     &expected, "trunkgate: note");
        if (rc == 0) {
            git_reference_free(ref);
            return;
        }
        if (rc != GIT_EMODIFIED && rc != GIT_EEXISTS && rc != GIT_ELOCKED)
            check(rc, "update " + notes_ref);
        git_error_clear();
        std::this_thread::sleep_for(std::chrono::milliseconds(1 + random() % 20));
    }
    throw internal_error("gave up updating " + notes_ref + " after 50 concurrent changes");
}

void for_each_note(
    git_repository* repo, const std::string& notes_ref,
    const std::function<void(const git_oid& commit, const std::string& note)>& visit) {
    const auto tip = notes_tip(repo, notes_ref);
    if (!tip)
        return;
    git_note_iterator* raw = nullptr;
    check(git_note_commit_iterator_new(&raw, tip->get()), "list notes");
    note_iterator_ptr notes(raw);
    git_oid blob, annotated;
    while (git_note_next(&blob, &annotated, notes.get()) == 0)
        if (const auto text = note_text(repo, tip->get(), annotated))
            visit(annotated, *text);
    git_error_clear();
}

} // namespace trunkgate
