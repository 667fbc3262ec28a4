"""Drives the real fossology-python library (4.x) through a compliance
engineer's whole workflow against a reehub server, asserting what each step
returns. Run by tests/fossology_python_lib_test.go when
REEHUB_FOSSOLOGY_PYTHON names a checkout of github.com/fossology/fossology-python
(its dependencies requests, tenacity and click from Debian's python3-* packages).

usage: fossology_python_workflow.py SRC BASE_URL USER PASSWORD FILE URL_OF_FILE
"""
import sys
import time

src, base, user, password, path, file_url = sys.argv[1:7]
sys.path.insert(0, src)

from fossology import Fossology, fossology_token  # noqa: E402
from fossology.enums import AccessLevel, ReportFormat, TokenScope  # noqa: E402


def check(cond, what):
    if not cond:
        raise SystemExit("FAILED: " + what)
    print("ok:", what)


token = fossology_token(base, user, password, "lib-" + str(int(time.time() * 1000)), TokenScope.WRITE)
foss = Fossology(base, token)
check(foss.user.name == user, "Fossology() read /info, /health, /users/self and the root folder")
folder = foss.create_folder(foss.rootFolder, "lib-" + str(int(time.time() * 1000)), "made by fossology-python")
check(folder.parent == foss.rootFolder.id, "create_folder under the root folder")
again = foss.create_folder(foss.rootFolder, folder.name, "made by fossology-python")
check(again.id == folder.id, "create_folder of an existing folder returns it")

up = foss.upload_file(folder, file=path, description="file upload", access_level=AccessLevel.PUBLIC)
check(up.hash.size > 0 and len(up.hash.sha256) == 64, "upload_file(file=...) with its hash")
url_up = foss.upload_file(folder, url={"url": file_url, "name": "by-url.zip", "accept": "", "reject": "", "maxRecursionDepth": "1"},
                          description="url upload", access_level=AccessLevel.PROTECTED)
check(url_up.hash.sha256 == up.hash.sha256, "upload_file(url=...) fetched the same bytes")
uploads, _ = foss.list_uploads(folder=folder)
check(sorted(u.id for u in uploads) == sorted([up.id, url_up.id]), "list_uploads of the folder")

spec = {
    "analysis": {"copyright_email_author": True, "ecc": True, "keyword": True, "mime": True, "monk": True,
                 "nomos": True, "ojo": True, "package": True},
    "decider": {"nomos_monk": True, "bulk_reused": True, "new_scanner": True, "ojo_decider": True},
    "reuse": {"reuse_upload": 0, "reuse_group": 0, "reuse_main": True, "reuse_enhanced": True,
              "reuse_report": True, "reuse_copyright": True},
}
job = foss.schedule_jobs(folder, up, spec, wait=True, timeout=2)
for _ in range(150):
    job = foss.detail_job(job.id)
    if job.status in ("Completed", "Failed"):
        break
    time.sleep(2)
check(job.status == "Completed", "schedule_jobs with every agent and decider, then Completed")
jobs, _ = foss.list_jobs(upload=up)
check(job.id in [j.id for j in jobs], "list_jobs of the upload")

summary = foss.upload_summary(up)
check(summary.uniqueLicenses > 0 and summary.copyrightCount > 0, "upload_summary counts licenses and copyrights")
licenses = foss.upload_licenses(up, agent="nomos,monk,ojo")
found = {lic.filepath: lic.findings.scanner for lic in licenses}
check(any("GPL-2.0-or-later" in s for s in found.values()), "upload_licenses names the GPL-2.0-or-later notice")
check(all(p.startswith(up.uploadname + "/") for p in found), "filePath values start with the upload name")
copyrights = foss.upload_copyrights(up)
check(len(copyrights) > 0, "upload_copyrights")

for fmt in (ReportFormat.SPDX2, ReportFormat.SPDX2TV, ReportFormat.DEP5, ReportFormat.READMEOSS, ReportFormat.UNIFIEDREPORT):
    report_id = foss.generate_report(up, report_format=fmt)
    content, name = foss.download_report(report_id)
    check(len(content) > 0 and name, "generate_report and download_report as " + fmt.value + " (" + name + ")")

foss.delete_upload(url_up)
foss.delete_upload(up)
foss.delete_folder(folder)
print("fossology-python workflow: done")
