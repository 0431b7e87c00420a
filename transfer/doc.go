// Package transfer sends files, folders, symbolic links and streams over
// an open message connection ([peer.Conn] is one), and receives them into
// a folder it never writes outside of. It never prints: it reports through
// the callbacks of [SendOptions] and [ReceiveOptions] and through the
// [Stats] and errors it returns.
//
// The receiver is shown what is offered ([Offer]) and may refuse before
// anything is written. A file appears under its final name only once all
// of it arrived, its SHA-256 matched the sender's and its content was
// flushed to the disk (fsync; on Linux, one syncfs for a batch of small
// files); until then it is written to a partial file beside it
// (".NAME.pigeon-partial"), which a later transfer of the same file
// continues. Every folder that gained an entry is flushed once, before the
// receiver acknowledges the end, so that after a successful transfer a
// crash of the machine loses nothing. An existing file with the same size
// and SHA-256 as the one offered counts as received, so running an
// interrupted transfer again finishes it.
//
// # Protocol
//
// Each message is one frame: a type byte, then a payload; a message holds
// at most 64 KiB (the size of [peer.MaxMessage]). Control messages carry
// JSON; a JSON payload larger than one message is split: every piece but
// the last goes in a "more" frame (type 1), the last in the frame of the
// message's own type. In order:
//
//  1. sender: manifest (type 2), {"version":1,"entries":[...]}; each entry
//     {"path","kind","size","mode","mtime","target"}: path is relative and
//     slash-separated, kind "file", "dir" or "symlink", size in bytes (-1:
//     a stream whose size is known only at its end), mode the permission
//     bits, mtime Unix nanoseconds, target the text of a link.
//  2. receiver: have (type 3), {"files":[{"index","final","size","sha256"}]}:
//     the files it already holds under their final name with the offered
//     size (final true), or as a partial file of that size (final false),
//     each with the SHA-256 of its content.
//  3. sender: verdict (type 4), {"match":[index...]}: the entries of have
//     whose content equals the first size bytes of the sender's file.
//  4. receiver: plan (type 5), {"skip":[index...],"resume":[{"index","offset"}]}
//     accepts the transfer: skipped files are not sent, resumed ones from
//     offset. Or it refuses with an abort frame (see below).
//  5. sender, for each file in manifest order that is not skipped: data
//     frames (type 6) with the next bytes of the file, then file end
//     (type 7) with the SHA-256 of the whole file (32 bytes).
//  6. sender: done (type 8); receiver: ack (type 9) once every file,
//     link and folder is in place: only then has the sender succeeded.
//
// Either side may send abort (type 10) with a reason in UTF-8 at any time,
// and then stops: before the plan it refuses the transfer.
//
// # What a receiver enforces
//
// Before anything is written: every name is validated (no empty, "." or
// ".." component, no absolute path, no backslash, NUL or other control
// character, no Windows device name such as CON or LPT1, at most
// [MaxNameLen] bytes a component and [MaxPathLen] a path, at most
// [MaxEntries] entries, no duplicates, nothing inside a file or a link of
// the same transfer); an existing file, link or partial file that would be
// replaced refuses the transfer unless [ReceiveOptions.Overwrite] is set.
// Every file operation goes through an [os.Root] opened on the target
// folder, so no name and no symbolic link, whether sent or already there,
// leads outside it. Links are made last, so nothing is written through a
// link the transfer made. A file receives at most the bytes its size
// announced. An offer whose files of known size would pass
// [ReceiveOptions.MaxSize], or leave less than [ReceiveOptions.KeepFree]
// free on the target's disk, is refused before anything is written
// ([SpaceError]); a stream (size -1) is stopped where it would, and its
// partial file removed.
package transfer
