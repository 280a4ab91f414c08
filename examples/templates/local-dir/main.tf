# A workspace that is a directory on the Atrium server's host: no provider to download, only
# terraform's built-in `terraform_data` and `local-exec`, so it works offline.
#
#   start  → creates <workspaces_dir>/<owner>/<name> and records "start" in it
#   stop   → records "stop" (the directory stays, as a stopped workspace keeps its disk)
#   delete → removes the directory
#
# Atrium passes these as TF_VAR_atrium_* environment variables on every build. Builds run in
# the provisioner sandbox, which may write only the job's own directory and the directory the
# operator names with `--provisioner-workspaces-dir` (passed here as atrium_workspaces_dir), so
# the server must be started with that flag for this template.

variable "atrium_transition" {
  type    = string
  default = "start"
}

variable "atrium_workspace_owner" {
  type = string
}

variable "atrium_workspace_name" {
  type = string
}

variable "atrium_workspaces_dir" {
  type        = string
  description = "Where workspace directories live (the server's --provisioner-workspaces-dir)."
}

locals {
  # Owner and workspace names follow Coder's name rule (letters, digits, single hyphens), so
  # they are safe in a path and in a shell command.
  dir = "${var.atrium_workspaces_dir}/${var.atrium_workspace_owner}/${var.atrium_workspace_name}"
}

resource "terraform_data" "workspace" {
  input = local.dir

  provisioner "local-exec" {
    command = "mkdir -p '${self.input}'"
  }

  provisioner "local-exec" {
    when    = destroy
    command = "rm -rf '${self.input}'"
  }
}

# Replaced on every transition, so each start and stop runs its provisioner.
resource "terraform_data" "power" {
  triggers_replace = [var.atrium_transition]
  input = {
    dir        = local.dir
    transition = var.atrium_transition
  }

  provisioner "local-exec" {
    command = "echo '${self.input.transition}' > '${self.input.dir}/.atrium-state'"
  }

  depends_on = [terraform_data.workspace]
}

output "directory" {
  value = local.dir
}
