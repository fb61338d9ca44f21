#include "scsi_status.hpp"

#include <cerrno>
#include <cstdio>

namespace granule_iscsi {

namespace {

bool check_condition(int status, const scsi_task *task)
{
    return status == SCSI_STATUS_CHECK_CONDITION && task;
}

}  // namespace

std::string status_text(int status, const scsi_task *task)
{
    switch (status) {
    case SCSI_STATUS_GOOD:
        return "GOOD";
    case SCSI_STATUS_CHECK_CONDITION: {
        if (!task)
            return "CHECK CONDITION";
        const scsi_sense &s = task->sense;
        const char *key = scsi_sense_key_str(s.key);
        const char *ascq = scsi_sense_ascq_str(s.ascq);
        char numbers[64];
        std::snprintf(numbers, sizeof numbers, "sense key 0x%x, ASC/ASCQ 0x%02x/0x%02x",
                      static_cast<unsigned>(s.key), (static_cast<unsigned>(s.ascq) >> 8) & 0xff,
                      static_cast<unsigned>(s.ascq) & 0xff);
        return std::string("CHECK CONDITION: ") + (key ? key : "unknown sense key") + ", " +
               (ascq ? ascq : "unknown ASC/ASCQ") + " (" + numbers + ")";
    }
    case SCSI_STATUS_BUSY:
        return "BUSY";
    case SCSI_STATUS_RESERVATION_CONFLICT:
        return "RESERVATION CONFLICT";
    case SCSI_STATUS_TASK_SET_FULL:
        return "TASK SET FULL";
    case SCSI_STATUS_ACA_ACTIVE:
        return "ACA ACTIVE";
    case SCSI_STATUS_TASK_ABORTED:
        return "TASK ABORTED";
    case SCSI_STATUS_CANCELLED:
        return "cancelled (connection closed)";
    case SCSI_STATUS_TIMEOUT:
        return "timed out";
    case SCSI_STATUS_ERROR:
        return "transport error";
    default: {
        char buf[48];
        std::snprintf(buf, sizeof buf, "SCSI status 0x%x", static_cast<unsigned>(status));
        return buf;
    }
    }
}

int status_errno(int status, const scsi_task *task)
{
    switch (status) {
    case SCSI_STATUS_GOOD:
        return 0;
    case SCSI_STATUS_CHECK_CONDITION:
        if (!task)
            return EIO;
        switch (task->sense.key) {
        case SCSI_SENSE_ILLEGAL_REQUEST:
            if (task->sense.ascq == SCSI_SENSE_ASCQ_LOGICAL_UNIT_NOT_SUPPORTED)
                return ENXIO;
            if (task->sense.ascq == SCSI_SENSE_ASCQ_INVALID_OPERATION_CODE)
                return ENOTSUP;
            return EINVAL;
        case SCSI_SENSE_DATA_PROTECTION:
            return EROFS;
        case SCSI_SENSE_NOT_READY:
            if ((task->sense.ascq & 0xff00) == 0x3a00)  // MEDIUM NOT PRESENT
                return ENOMEDIUM;
            return EAGAIN;
        case SCSI_SENSE_COMMAND_ABORTED:
            return ECANCELED;
        case SCSI_SENSE_OVERFLOW_COMMAND:  // VOLUME OVERFLOW / out of space
            return ENOSPC;
        default:
            return EIO;
        }
    case SCSI_STATUS_BUSY:
    case SCSI_STATUS_TASK_SET_FULL:
        return EAGAIN;
    case SCSI_STATUS_RESERVATION_CONFLICT:
        return EBUSY;
    case SCSI_STATUS_TIMEOUT:
        return ETIMEDOUT;
    case SCSI_STATUS_CANCELLED:
        return ECONNRESET;
    default:
        return EIO;
    }
}

bool status_retryable(int status, const scsi_task *task)
{
    if (status == SCSI_STATUS_BUSY || status == SCSI_STATUS_TASK_SET_FULL)
        return true;
    return check_condition(status, task) && task->sense.key == SCSI_SENSE_UNIT_ATTENTION;
}

bool status_unsupported(int status, const scsi_task *task)
{
    if (!check_condition(status, task) || task->sense.key != SCSI_SENSE_ILLEGAL_REQUEST)
        return false;
    return task->sense.ascq == SCSI_SENSE_ASCQ_INVALID_OPERATION_CODE ||
           task->sense.ascq == SCSI_SENSE_ASCQ_INVALID_FIELD_IN_CDB ||
           task->sense.ascq == SCSI_SENSE_ASCQ_INVALID_FIELD_IN_PARAMETER_LIST;
}

write_same_failure classify_write_same_failure(int status, const scsi_task *task, bool unmap_bit)
{
    if (!check_condition(status, task) || task->sense.key != SCSI_SENSE_ILLEGAL_REQUEST)
        return write_same_failure::error;
    if (task->sense.ascq == SCSI_SENSE_ASCQ_INVALID_OPERATION_CODE)
        return write_same_failure::refused;
    if (task->sense.ascq == SCSI_SENSE_ASCQ_INVALID_FIELD_IN_CDB)
        return unmap_bit ? write_same_failure::unmap_bit_refused : write_same_failure::refused;
    return write_same_failure::error;
}

}  // namespace granule_iscsi
