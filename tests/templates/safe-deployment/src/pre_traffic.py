import os


def handler(event, context):
    # A real hook would invoke the new version and report to CodeDeploy.
    print("checking", os.environ.get("TARGET_VERSION"))
    return {"status": "Succeeded"}
