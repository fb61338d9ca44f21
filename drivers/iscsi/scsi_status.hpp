// Turning a finished libiscsi task into errno + text: the SCSI status, and for
// CHECK CONDITION the sense key and ASC/ASCQ as libiscsi names them
// (scsi_sense_key_str / scsi_sense_ascq_str) plus the raw numbers.
#pragma once

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include <memory>
#include <string>

namespace granule_iscsi {

struct task_deleter {
    void operator()(scsi_task *t) const noexcept { scsi_free_scsi_task(t); }
};
using task_ptr = std::unique_ptr<scsi_task, task_deleter>;

// "CHECK CONDITION: ILLEGAL_REQUEST, LBA_OUT_OF_RANGE (sense key 0x5, ASC/ASCQ
// 0x21/0x00)", "BUSY", "connection cancelled", ...
std::string status_text(int status, const scsi_task *task);

// A positive errno for a failed status (EIO where nothing fits better).
int status_errno(int status, const scsi_task *task);

// The target did not execute the command and asks to send it again
// (UNIT ATTENTION, BUSY, TASK SET FULL): reissuing cannot apply it twice.
bool status_retryable(int status, const scsi_task *task);

// ILLEGAL REQUEST for an opcode or CDB field the target does not implement.
bool status_unsupported(int status, const scsi_task *task);

// What a failed WRITE SAME(16) of write_zeroes means. ILLEGAL REQUEST says
// the device server did not execute the command, so only those answers are
// taken as a refusal; everything else is a failed write.
enum class write_same_failure {
    error,              // a real error: the request fails with it
    unmap_bit_refused,  // INVALID FIELD IN CDB with the UNMAP bit set: the bit
                        // may be what is refused (tgtd without thin
                        // provisioning): send the blocks again without it
    refused,            // INVALID COMMAND OPERATION CODE, or INVALID FIELD IN
                        // CDB without the UNMAP bit: WRITE SAME(16) is not
                        // available
};
write_same_failure classify_write_same_failure(int status, const scsi_task *task, bool unmap_bit);

}  // namespace granule_iscsi
